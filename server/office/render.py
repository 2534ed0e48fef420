"""How office pages are put in front of a person: their strings, their clock, the content's titles.

Pages render through Litestar's `Template` responses (the engine is the one jinja2 environment of
server/site.py), so every form gets Litestar's `csrf_input`. UI strings come from strings.toml
beside this file, in zh-CN and en (a missing language fails at start-up); titles of codes, steps,
checklists and maintenance kinds come from the loaded content, and an id the content no longer
knows is shown as "not in the current guides", never as the id.
"""

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from litestar import Request
from litestar.response import Template

from content.load import Library
from content.types import Strings, Text
from server.queries import OfficeUser
from server.settings import SettingsError
from server.site import HTML_LANG, Translator

HERE = Path(__file__).resolve().parent
STRINGS = HERE / "strings.toml"
STATIC = HERE / "static"
LANGS = ("zh", "en")


def load_strings(path: Path = STRINGS) -> dict[str, Text]:
    """The office's UI strings; a string without both languages stops the server at start-up."""
    try:
        return msgspec.toml.decode(path.read_bytes(), type=Strings).strings
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise SettingsError(f"{path.name}: {exc}") from None


class Clock:
    """The office's time zone: UTC text from the database shown as local time, local dates as UTC bounds."""

    def __init__(self, name: str):
        try:
            self.zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"--timezone / POSAID_TIMEZONE: unknown time zone {name!r} "
                                "(an IANA name such as Asia/Shanghai)") from None

    def local(self, utc_text: str) -> datetime:
        return datetime.fromisoformat(utc_text).astimezone(self.zone)

    def show(self, utc_text: str | None) -> str:
        """`2026-05-01 17:58` in the office's zone; empty for None."""
        return self.local(utc_text).isoformat(" ", "minutes")[:16] if utc_text else ""  # strftime is 3× slower

    def stamp(self, utc_text: str) -> str:
        """A compact local time for file names: `20260501-175800`."""
        return self.local(utc_text).strftime("%Y%m%d-%H%M%S")

    def start_of(self, day: date) -> str:
        """The UTC text of the first instant of a local day (a filter's lower bound)."""
        return datetime.combine(day, time(), self.zone).astimezone(UTC).isoformat()

    def end_of(self, day: date) -> str:
        """The UTC text of the first instant after a local day (a filter's exclusive upper bound)."""
        return self.start_of(day + timedelta(days=1))

    def span(self, first: date | None, last: date | None) -> dict[str, str | None]:
        """A filter's bounds from local days, both included: `start` and `end` (exclusive) as UTC text."""
        return {"start": self.start_of(first) if first else None, "end": self.end_of(last) if last else None}

    def days_ago(self, days: int) -> str:
        return (datetime.now(UTC) - timedelta(days=days)).isoformat()


class Titles:
    """What the content calls things, in one language; a fallback text where it no longer knows an id."""

    def __init__(self, library: Library, t: Translator):
        self.library, self.t = library, t
        self.steps = {(flow.id, step.id): step.title for flow in library.flows.values() for step in flow.steps}
        self.cards = {(flow.id, card.id): card.title for flow in library.flows.values() for card in flow.support}
        self.kinds = {kind.id: kind for kind in library.maintenance.kinds}

    def _text(self, text: Text | None) -> str:
        return self.t.text(text) if text is not None else self.t("content.unknown")

    def code(self, code: str) -> str:
        """A code by its title (which names the code as the terminal shows it: "T2：…", "51 …"; a
        fault's id such as "battery" is never shown); a code the guides lack, as the phone recorded it."""
        found = self.library.codes.get(code)
        return self.t.text(found.title) if found else f"{code} {self.t('content.unknown_code')}"

    def step(self, flow: str, step: str | None) -> str:
        return self._text(self.steps.get((flow, step or "")))

    def step_of_code(self, code: str, step: str | None) -> str:
        """A step named by a close (which names no flow): the step of the code's flow."""
        found = self.library.codes.get(code)
        return self.step(found.flow, step) if found and found.flow else self.t("content.unknown")

    def card(self, code: str, card: str) -> str:
        found = self.library.codes.get(code)
        return self._text(self.cards.get((found.flow, card)) if found and found.flow else None)

    def checklist(self, checklist: str) -> str:
        found = self.library.checklists.get(checklist)
        return self._text(found.title if found else None)

    def item(self, checklist: str, item: str) -> str:
        found = self.library.checklists.get(checklist)
        titles = {i.id: i.title for i in found.items} if found else {}
        return self._text(titles.get(item))

    def kind(self, kind: str) -> str:
        found = self.kinds.get(kind)
        return self._text(found.title if found else None)

    def field(self, kind: str, field: str) -> str:
        found = self.kinds.get(kind)
        labels = {f.id: f.label for f in found.fields} if found else {}
        return self._text(labels.get(field))


def _static_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def request_lang(request: Request) -> str:
    """A visitor's language before sign-in: ?lang=, else the browser's first preference."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


class Renderer:
    """Renders office pages: a template under office/, with what every page needs in its context."""

    def __init__(self, library: Library, strings: dict[str, Text], clock: Clock):
        self.library, self.strings, self.clock = library, strings, clock
        self.translators = {lang: Translator(strings, lang) for lang in LANGS}
        self.titles = {lang: Titles(library, self.translators[lang]) for lang in LANGS}
        self.static_version = _static_version()

    def lang(self, request: Request) -> str:
        user = request.scope.get("user")
        return user.lang if isinstance(user, OfficeUser) else request_lang(request)

    def context(self, request: Request, lang: str, **context) -> dict:
        user = request.scope.get("user")
        t = self.translators[lang]
        return {
            "lang": lang, "html_lang": HTML_LANG[lang], "other_lang": "en" if lang == "zh" else "zh",
            "t": t, "tx": t.text, "titles": self.titles[lang], "clock": self.clock, "library": self.library,
            "user": user if isinstance(user, OfficeUser) else None, "here": _here(request),
            "static_version": self.static_version, "html_langs": HTML_LANG, **context,
        }

    def __call__(self, request: Request, template: str, status: int = 200, lang: str | None = None, **context
                 ) -> Template:
        """A page: private to the signed-in user, so never stored by a cache."""
        return Template(template_name=f"office/{template}", status_code=status,
                        context=self.context(request, lang or self.lang(request), **context),
                        headers={"Cache-Control": "no-store"})


def _here(request: Request) -> str:
    """The path and query of this request: where a language switch or a sign-in comes back to."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
