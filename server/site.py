"""The PWA's pages, rendered once from the content at start-up and served as they are.

Every page is static per language, so rendering them up front gives each one a hash for the
service worker's precache revision and makes serving a dictionary look-up.
"""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import jinja2
import msgspec
from markupsafe import Markup

from content.load import Library
from content.types import Text

PWA = Path(__file__).resolve().parent.parent / "pwa"
STATIC = PWA / "static"
LANGS = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}
# Files under static/ that the app needs offline; licences and notes stay online-only.
PRECACHED_SUFFIXES = {".js", ".mjs", ".css", ".png", ".svg", ".json"}


class Page(msgspec.Struct, frozen=True):
    body: bytes
    media_type: str
    etag: str


class Site(msgspec.Struct, frozen=True):
    """Every page and the service worker that precaches them, ready to serve."""

    pages: dict[str, Page]
    service_worker: Page
    version: str


def _page(body: bytes, media_type: str) -> Page:
    return Page(body=body, media_type=media_type, etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def environment(folders: Mapping[str, Path] | None = None) -> jinja2.Environment:
    """The jinja2 environment: autoescaped, and strict about missing names.

    The phone app's templates load by their names ("home.html"); each other part of the site
    brings its own folder, loaded under its prefix ("office/base.html").
    """
    loaders = [jinja2.FileSystemLoader(PWA / "templates")]
    if folders:
        loaders.append(jinja2.PrefixLoader({prefix: jinja2.FileSystemLoader(path) for prefix, path in folders.items()}))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["paragraphs"] = lambda text: [p.strip() for p in text.split("\n\n") if p.strip()]
    return env


class Translator:
    """UI strings and content text in one language; a missing key is an error, never blank text."""

    def __init__(self, strings: dict[str, Text], lang: str):
        self.strings = strings
        self.lang = lang

    def __call__(self, key: str, **values) -> str:
        text = getattr(self.strings[key], self.lang)
        return text.format(**values) if values else text

    def text(self, text: Text) -> str:
        return getattr(text, self.lang)


def render(env: jinja2.Environment, library: Library, lang: str, url: str, template: str, **context) -> str:
    """Render one template as a page in lang, with the strings and links every page needs."""
    other = "en" if lang == "zh" else "zh"
    t = Translator(library.strings, lang)
    return env.get_template(template).render(
        lang=lang,
        html_lang=HTML_LANG[lang],
        other_html_lang=HTML_LANG[other],
        other_url=f"/{other}" + url.removeprefix(f"/{lang}"),
        t=t,
        tx=t.text,
        library=library,
        page_id=template.removesuffix(".html"),
        **context,
    )


def build_site(library: Library, env: jinja2.Environment | None = None) -> Site:
    """Render every page in both languages and the service worker that precaches them."""
    env = env or environment()
    pages: dict[str, Page] = {}
    for lang in LANGS:
        for url, template, context in _routes(library, lang):
            html = render(env, library, lang, url, template, **context)
            pages[url] = _page(html.encode(), "text/html")
        pages[f"/{lang}/search-index.json"] = _page(_search_index(library, lang), "application/json")
        # Strings the scripts show, fetched once (from the precache offline) rather than repeated
        # in every page.
        js_strings = {k: getattr(v, lang) for k, v in library.strings.items() if k.startswith("js.")}
        pages[f"/{lang}/strings.json"] = _page(json.dumps(js_strings, ensure_ascii=False).encode(), "application/json")
        pages[f"/{lang}/manifest.webmanifest"] = _page(
            _manifest(library, lang), "application/manifest+json"
        )
    pages["/"] = pages["/zh"]
    precache = [{"url": url, "revision": page.etag.strip('"')} for url, page in sorted(pages.items())]
    for path in sorted(STATIC.rglob("*")):
        if path.is_file() and path.suffix in PRECACHED_SUFFIXES:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
            precache.append({"url": "/static/" + path.relative_to(STATIC).as_posix(), "revision": digest})
    sw = env.get_template("sw.js").render(precache=Markup(json.dumps(precache, separators=(",", ":"))))
    version = hashlib.sha256(sw.encode()).hexdigest()[:16]
    return Site(pages=pages, service_worker=_page(sw.encode(), "text/javascript"), version=version)


def _routes(library: Library, lang: str):
    """(url, template, context) for every page in one language."""
    yield f"/{lang}", "home.html", {}
    yield f"/{lang}/offline", "offline.html", {}
    yield f"/{lang}/search", "search.html", {}
    for name in ("record", "incident", "records", "maintenance", "enroll"):
        yield f"/{lang}/{name}", f"{name}.html", {}
    for code in library.codes.values():
        flow = library.flows.get(code.flow) if code.flow else None
        yield f"/{lang}/codes/{code.code}", "code.html", {"code": code, "flow": flow}
    for flow in library.flows.values():
        yield f"/{lang}/flows/{flow.id}", "flow.html", {"flow": flow, "code": library.codes[flow.code]}
    yield f"/{lang}/checklists", "checklists.html", {}
    for checklist in library.checklists.values():
        yield f"/{lang}/checklists/{checklist.id}", "checklist.html", {"checklist": checklist}


def _search_index(library: Library, lang: str) -> bytes:
    """What the phone searches offline: per guide its url, words to match, and what to show."""
    t = Translator(library.strings, lang).text
    entries = []
    for code in library.codes.values():
        flow = library.flows.get(code.flow) if code.flow else None
        words = [t(code.summary), *(t(c.title) for c in code.causes)]
        if flow:
            words += [t(step.title) for step in flow.steps]
        entries.append({
            "url": f"/{lang}/codes/{code.code}",
            "kind": code.kind,
            "code": code.code.lower(),
            "flow": code.flow,
            "title": t(code.title),
            "summary": t(code.summary),
            "keys": [k.lower() for k in getattr(code.keywords, lang)],
            "text": " ".join(words).lower(),
        })
    for checklist in library.checklists.values():
        entries.append({
            "url": f"/{lang}/checklists/{checklist.id}",
            "kind": "checklist",
            "code": "",
            "title": t(checklist.title),
            "summary": t(checklist.intro),
            "keys": [],
            "text": " ".join(t(item.title) for item in checklist.items).lower(),
        })
    return json.dumps(entries, ensure_ascii=False, separators=(",", ":")).encode()


def _manifest(library: Library, lang: str) -> bytes:
    t = Translator(library.strings, lang)
    icons = [
        {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": "/static/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
    ]
    manifest = {
        "id": "/",
        "name": t("app.full_name"),
        "short_name": t("app.name"),
        "description": t("app.description"),
        "lang": HTML_LANG[lang],
        "start_url": f"/{lang}",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
        "icons": icons,
    }
    return json.dumps(manifest, ensure_ascii=False, indent=1).encode()
