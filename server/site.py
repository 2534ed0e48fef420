"""The PWA's pages, rendered once from the content at start-up and served as they are.

Every page is static per language, so rendering them up front gives each one a hash for the
service worker's precache revision and makes serving a dictionary look-up. The app's own scripts
are served the same way, each import naming the revision of the module it imports
("/static/js/db.js?v=…"), so every static URL a page asks for carries its revision and can be
cached for a year (pages.py).
"""

import hashlib
import json
import re
import socket
from collections.abc import Mapping
from pathlib import Path

import jinja2
import msgspec
from markupsafe import Markup

from content.load import Library, normalise
from content.types import Text

PWA = Path(__file__).resolve().parent.parent / "pwa"
STATIC = PWA / "static"
LANGS = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}
# Files under static/ that the app needs offline; licences, notes and the QR decoder (enrollment
# needs the network anyway) stay online-only.
PRECACHED_SUFFIXES = {".js", ".mjs", ".css", ".png", ".svg", ".json"}
ONLINE_ONLY = {"vendor"}
MEDIA_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".png": "image/png",
               ".svg": "image/svg+xml", ".json": "application/json"}
# An import of one of the app's modules, as every module writes it: from "/static/js/x.js".
IMPORT = re.compile(r"""(["'])(/static/[A-Za-z0-9_./-]+\.m?js)\1""")
INDENT = re.compile(r"\n[ \t]+")
# Comments on lines of their own (a // line, a /** … */ block), which the phone need not download:
# the sources keep them. A comment that shares a line with code stays.
COMMENT_LINES = re.compile(r"^[ \t]*(?://[^\n]*|/\*[\s\S]*?\*/[ \t]*)\n", re.MULTILINE)


class Page(msgspec.Struct, frozen=True):
    body: bytes
    media_type: str
    etag: str

    @property
    def revision(self) -> str:
        return self.etag.strip('"')


class Site(msgspec.Struct, frozen=True):
    """Every page, the static files and the service worker that precaches them, ready to serve."""

    pages: dict[str, Page]
    static: dict[str, Page]
    service_worker: Page
    version: str


def _page(body: bytes, media_type: str) -> Page:
    # 10 hex digits tell versions of one file apart; every page names five or so, so each digit
    # more costs the precache (gzip cannot shrink random digits) about 0.5 KB.
    return Page(body=body, media_type=media_type, etag='"' + hashlib.sha256(body).hexdigest()[:10] + '"')


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
    # Until build_site knows the revisions and the public address: plain paths, relative links.
    env.globals.setdefault("asset", lambda path: path)
    env.globals.setdefault("public_url", "")
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
    path = url.removeprefix(f"/{lang}")
    return env.get_template(template).render(
        lang=lang,
        html_lang=HTML_LANG[lang],
        other_html_lang=HTML_LANG[other],
        other_url=f"/{other}" + path,
        alternates={HTML_LANG[code]: f"/{code}" + path for code in LANGS},
        url=url,
        t=t,
        tx=t.text,
        library=library,
        **context,
    )


def public_origin(settings) -> str:
    """Where people reach the app, for absolute links (hreflang, canonical): the public_url
    setting, else the address `serve` listens on (this machine's name when it listens on all)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else socket.gethostname()
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if settings.certfile else 'http'}://{host}:{settings.port}"


def build_site(library: Library, env: jinja2.Environment | None = None, public_url: str = "") -> Site:
    """Render every page in both languages, the app's static files, and the service worker."""
    env = env or environment()
    static = _static_files()
    env.globals["asset"] = assets(static)
    env.globals["public_url"] = public_url.rstrip("/")
    pages: dict[str, Page] = {}
    for lang in LANGS:
        for url, template, context in _routes(library, lang):
            html = render(env, library, lang, url, template, **context)
            # Indentation is for the templates' readers; every page drops it (no page has a <pre>).
            pages[url] = _page(INDENT.sub("\n", html).encode(), "text/html")
        pages[f"/{lang}/search-index.json"] = _page(_search_index(library, lang), "application/json")
        # Strings the scripts show, fetched once (from the precache offline) rather than repeated
        # in every page, with the content's names (steps, checklists, kinds) so that nothing a
        # person reads is an internal id.
        pages[f"/{lang}/strings.json"] = _page(_script_strings(library, lang), "application/json")
        pages[f"/{lang}/manifest.webmanifest"] = _page(
            _manifest(library, lang, env.globals["asset"]), "application/manifest+json"
        )
    pages["/"] = pages["/zh"]  # served, but precached once: the service worker answers "/" with /zh
    # The first install fetches the shared files and the installing page's language; the other
    # language follows once the app works offline (templates/sw.js).
    precache: dict[str, list[dict[str, str]]] = {"common": [], **{lang: [] for lang in LANGS}}
    for url, page in sorted(pages.items()):
        if url != "/":
            precache[url.split("/")[1]].append({"url": url, "revision": page.revision})
    for url, page in sorted(static.items()):
        precache["common"].append({"url": url, "revision": page.revision})
    sw = env.get_template("sw.js").render(precache=Markup(json.dumps(precache, separators=(",", ":"))))
    version = hashlib.sha256(sw.encode()).hexdigest()[:16]
    return Site(pages=pages, static=static, service_worker=_page(sw.encode(), "text/javascript"), version=version)


def assets(static: dict[str, Page]):
    """The templates' asset(path): a static file's URL with its revision, to be cached for a year."""
    return lambda path: f"{path}?v={static[path].revision}" if path in static else path


def _static_files() -> dict[str, Page]:
    """Every precached file under static/, as served: the app's modules with versioned imports."""
    paths = {
        "/static/" + path.relative_to(STATIC).as_posix(): path
        for path in sorted(STATIC.rglob("*"))
        if path.is_file() and path.suffix in PRECACHED_SUFFIXES and path.relative_to(STATIC).parts[0] not in ONLINE_ONLY
    }
    served: dict[str, Page] = {}

    def serve(url: str, seen: tuple[str, ...] = ()) -> Page:
        if url in served:
            return served[url]
        if url in seen:
            raise ValueError(f"import cycle: {' → '.join((*seen, url))}")
        path = paths[url]
        body = path.read_bytes()
        if path.parent.name == "js":  # the app's own modules; vendored files stay byte for byte
            text = COMMENT_LINES.sub("", body.decode())
            body = IMPORT.sub(lambda m: _versioned(m, serve(m.group(2), (*seen, url)).revision) if m.group(2) in paths
                              else m.group(0), text).encode()
        elif path.suffix == ".css":
            body = COMMENT_LINES.sub("", body.decode()).encode()
        served[url] = _page(body, MEDIA_TYPES[path.suffix])
        return served[url]

    for url in paths:
        serve(url)
    return served


def _versioned(match: re.Match, revision: str) -> str:
    quote, url = match.groups()
    return f"{quote}{url}?v={revision}{quote}"


def _routes(library: Library, lang: str):
    """(url, template, context) for every page in one language."""
    yield f"/{lang}", "home.html", {}
    yield f"/{lang}/offline", "offline.html", {}
    yield f"/{lang}/search", "search.html", {}
    for name in ("record", "incident", "records", "entry", "maintenance", "enroll"):
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
    """What the phone searches offline: per guide its url, words to match (normalised as a query
    is, content.load.normalise), and what to show."""
    t = Translator(library.strings, lang).text
    entries = []
    for code in library.codes.values():
        flow = library.flows.get(code.flow) if code.flow else None
        words = [t(code.summary), *(t(c.title) for c in code.causes)]
        if flow:
            words += [t(step.title) for step in flow.steps]
        entry = {
            "url": f"/{lang}/codes/{code.code}",
            "kind": code.kind,
            "code": normalise(code.code),
            "title": t(code.title),
            "summary": t(code.summary),
            "synonyms": [normalise(s) for s in getattr(code.synonyms, lang)],
            "keys": [normalise(k) for k in getattr(code.keywords, lang)],
            "text": normalise(" ".join(words)),
        }
        if code.flow:
            entry["flow"] = code.flow
        entries.append({k: v for k, v in entry.items() if v != []})  # search.js reads a missing list as empty
    for checklist in library.checklists.values():
        entries.append({
            "url": f"/{lang}/checklists/{checklist.id}",
            "kind": "checklist",
            "code": "",
            "title": t(checklist.title),
            "summary": t(checklist.intro),
            "text": normalise(" ".join(t(item.title) for item in checklist.items)),
        })
    return json.dumps(entries, ensure_ascii=False, separators=(",", ":")).encode()


def _script_strings(library: Library, lang: str) -> bytes:
    """The js.* strings, and under "names" what the content calls each id a record may hold (a
    code's title is in the search index: search.js codeTitle)."""
    t = Translator(library.strings, lang).text
    strings: dict[str, object] = {k: getattr(v, lang) for k, v in library.strings.items() if k.startswith("js.")}
    strings["names"] = {
        "flows": {flow.id: {"steps": {step.id: t(step.title) for step in flow.steps}} for flow in library.flows.values()},
        "checklists": {checklist.id: {
            "title": t(checklist.title),
            "frequency": checklist.frequency,
            "items": {item.id: t(item.title) for item in checklist.items},
        } for checklist in library.checklists.values()},
        "kinds": {kind.id: {
            "title": t(kind.title),
            "fields": {field.id: t(field.label) for field in kind.fields},
        } for kind in library.maintenance.kinds},
    }
    return json.dumps(strings, ensure_ascii=False, separators=(",", ":")).encode()


def _manifest(library: Library, lang: str, asset) -> bytes:
    t = Translator(library.strings, lang)
    icons = [
        {"src": asset("/static/icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": asset("/static/icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": asset("/static/icons/maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
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
