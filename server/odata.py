"""A read-only OData v4 feed of the office's records, for Excel, Power BI and other tools.

    /office/odata/              the service document (the entity sets)
    /office/odata/$metadata     the CSDL (XML): entity types, their properties and keys
    /office/odata/Incidents     Steps, ChecklistRuns, Actions, Maintenance: the entity sets

Authentication: a feed token a user made on /office/feeds, sent as HTTP Basic (any user name, the
token as the password: what Excel's and Power BI's OData connectors ask for) or as a Bearer token.
The feed reads what that user may read (a regional user's token, only their regions' shops), and
stops with a revoked token or a disabled user. Only the token's sha256 is kept.

Query options: $top, $skip, $count=true, $select (properties by name), $filter with eq, ne, gt and
lt joined by and (parentheses allowed) on any property of the set's type, against a literal of
its type ('text', 12, 12.5, true, null, 2026-05-01, 2026-05-01T08:00:00Z); $format=json. Anything
else (or, not, ge, le, functions such as contains(), $orderby, $expand …) is a 400 naming it.
Pages hold PAGE entities in the set's key order; a longer answer ends with @odata.nextLink, whose
$skiptoken carries the last key (keyset paging: the thousandth page costs what the first does).
"""

import base64
import binascii
import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode
from xml.sax.saxutils import quoteattr

import msgspec
from litestar import Request, Response, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from server import queries, writes
from server.errors import describe
from server.queries import FEED_SETS, OfficeUser
from server.settings import Settings
from server.store import Store
from sync.errors import BadRequest, NotFound, Unauthorized
from sync.views import iso

PAGE = 1000
MAX_TOP = 100_000
NAMESPACE = "posaid"
TYPES = {"Incidents": "Incident", "Steps": "Step", "ChecklistRuns": "ChecklistRun", "Actions": "Action",
         "Maintenance": "MaintenanceEntry"}
OPTIONS = ("$top", "$skip", "$count", "$select", "$filter", "$skiptoken", "$format")
JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
HEADERS = {"OData-Version": "4.0", "Cache-Control": "no-store"}
SUPPORTED = "supported: eq, ne, gt, lt, and, parentheses"
_key_decoder = msgspec.json.Decoder(list)


# ---- who asks ----


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            _, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password or None
    return None


def feed_user(request: Request, store: Store) -> OfficeUser:
    """The user whose feed token the request carries; Unauthorized (with a Basic challenge) otherwise."""
    token = _token(request)
    found = None
    if token:
        with store.read() as db:
            found = queries.feed_user(db, hashlib.sha256(token.encode()).hexdigest())
    if found is None:
        raise Unauthorized("a feed token is needed: make one on /office/feeds and give it as the password",
                           headers={"WWW-Authenticate": 'Basic realm="posaid OData feed", charset="UTF-8"'})
    token_id, user = found
    stamp = datetime.now(UTC)
    with store.write(durable=False) as db:  # bookkeeping: a crash may lose it
        writes.feed_token_used(db, token_id, iso(stamp), iso(stamp - timedelta(minutes=5)))
    return user


def base_url(request: Request, settings: Settings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/") + "/office/odata/"


# ---- $filter ----

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<open>\()|(?P<close>\))"
                    r"|(?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))"
                    r"|(?P<date>\d{4}-\d{2}-\d{2})|(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)"
                    r"|(?P<other>\S))")


def _tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            break
        at = match.end()
        kind = match.lastgroup
        if kind:
            found.append((kind, match.group(kind)))
    return found


class _Parser:
    def __init__(self, name: str, text: str):
        self.feed, self.name, self.items, self.at = FEED_SETS[name], name, _tokens(text), 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> tuple[str, str]:
        item = self.peek()
        if item is None:
            raise BadRequest("$filter: ends too soon")
        self.at += 1
        return item

    def parse(self) -> list[tuple[str, str, object]]:
        found = self.expression()
        if self.peek() is not None:
            raise BadRequest(f"$filter: {self.peek()[1]!r} is not supported here ({SUPPORTED})")
        return found

    def expression(self) -> list[tuple[str, str, object]]:
        found = self.term()
        while self.peek() and self.peek()[0] == "word" and self.peek()[1].lower() in ("and", "or"):
            word = self.take()[1]
            if word.lower() == "or":
                raise BadRequest(f"$filter: the operator 'or' is not supported ({SUPPORTED})")
            found += self.term()
        return found

    def term(self) -> list[tuple[str, str, object]]:
        kind, text = self.take()
        if kind == "open":
            found = self.expression()
            if self.take()[0] != "close":
                raise BadRequest("$filter: a parenthesis is not closed")
            return found
        if kind != "word":
            raise BadRequest(f"$filter: expected a property name, found {text!r}")
        if self.peek() and self.peek()[0] == "open":
            raise BadRequest(f"$filter: the function {text}() is not supported ({SUPPORTED})")
        if text.lower() == "not":
            raise BadRequest(f"$filter: the operator 'not' is not supported ({SUPPORTED})")
        if text not in self.feed.columns:
            raise BadRequest(f"$filter: {self.name} has no property {text!r}")
        op_kind, op = self.take()
        if op_kind != "word" or op.lower() not in ("eq", "ne", "gt", "lt"):
            raise BadRequest(f"$filter: the operator {op!r} is not supported ({SUPPORTED})")
        return [(text, op.lower(), self.literal(text, op.lower()))]

    def literal(self, name: str, op: str) -> object:
        kind, text = self.take()
        edm = self.feed.columns[name].type
        if kind == "word" and text == "null":
            if op not in ("eq", "ne"):
                raise BadRequest(f"$filter: {name} {op} null compares with nothing")
            return None
        if kind == "word" and text in ("true", "false") and edm == "Edm.Boolean":
            return int(text == "true")
        if edm == "Edm.String" and kind == "str":
            return text[1:-1].replace("''", "'")
        if edm in ("Edm.Int64", "Edm.Decimal") and kind == "num":
            return int(text) if edm == "Edm.Int64" and "." not in text else float(text)
        if edm == "Edm.DateTimeOffset" and kind in ("time", "date"):
            moment = datetime.fromisoformat(text.replace("Z", "+00:00")) if kind == "time" else datetime.combine(
                date.fromisoformat(text), datetime.min.time(), UTC)
            return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        if edm == "Edm.Date" and kind == "date":
            return text
        raise BadRequest(f"$filter: {text!r} is not a literal of {name}'s type {edm}")


# ---- answers ----


def _json(body: dict, status: int = 200) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type=JSON, headers=HEADERS)


def _options(request: Request) -> dict[str, str]:
    options = {}
    for key, value in request.query_params.items():
        if key.startswith("$"):
            if key not in OPTIONS:
                raise BadRequest(f"{key}: this query option is not supported (supported: {', '.join(OPTIONS)})")
            options[key] = value
    if options.get("$format", "json").split(";")[0].lower() not in ("json", "application/json"):
        raise BadRequest("$format: only json is supported")
    return options


def _number(options: dict, name: str, most: int) -> int | None:
    if name not in options:
        return None
    text = options[name]
    if not text.isdigit() or int(text) > most:
        raise BadRequest(f"{name}: expected a whole number from 0 to {most}, not {text!r}")
    return int(text)


def _skiptoken(text: str | None, size: int) -> list | None:
    if not text:
        return None
    try:
        key = _key_decoder.decode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, msgspec.MsgspecError):
        key = None
    if not isinstance(key, list) or len(key) != size:
        raise BadRequest("$skiptoken: not a page of this feed (follow @odata.nextLink as given)")
    return key


@get("/", sync_to_thread=True)
def service(request: Request, store: NamedDependency[Store], settings: NamedDependency[Settings]) -> Response:
    """The service document: the entity sets."""
    feed_user(request, store)
    return _json({"@odata.context": base_url(request, settings) + "$metadata",
                  "value": [{"name": name, "kind": "EntitySet", "url": name} for name in FEED_SETS]})


def _facets(column) -> str:
    facets = "" if column.nullable else ' Nullable="false"'
    return facets + (' Scale="variable"' if column.type == "Edm.Decimal" else "")


def metadata_xml() -> str:
    """The CSDL of the feed: an entity type per set, its key, its properties with their EDM types."""
    types, sets = [], []
    for name, feed in FEED_SETS.items():
        keys = "".join(f"<PropertyRef Name={quoteattr(k)}/>" for k in feed.key)
        props = "".join(f"<Property Name={quoteattr(p)} Type={quoteattr(c.type)}{_facets(c)}/>"
                        for p, c in feed.columns.items())
        types.append(f"<EntityType Name={quoteattr(TYPES[name])}><Key>{keys}</Key>{props}</EntityType>")
        sets.append(f"<EntitySet Name={quoteattr(name)} EntityType={quoteattr(f'{NAMESPACE}.{TYPES[name]}')}/>")
    return ('<?xml version="1.0" encoding="utf-8"?>'
            '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0"><edmx:DataServices>'
            f'<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="{NAMESPACE}">'
            + "".join(types) + '<EntityContainer Name="Office">' + "".join(sets) + "</EntityContainer></Schema>"
            "</edmx:DataServices></edmx:Edmx>")


_METADATA = metadata_xml()


@get("/$metadata", sync_to_thread=True)
def metadata(request: Request, store: NamedDependency[Store]) -> Response:
    """The CSDL (XML) describing the entity sets."""
    feed_user(request, store)
    return Response(_METADATA, media_type="application/xml;charset=utf-8", headers=HEADERS)


@get("/{name:str}", sync_to_thread=True)
def entity_set(request: Request, name: FromPath[str], store: NamedDependency[Store],
               settings: NamedDependency[Settings]) -> Response:
    """A page of an entity set, filtered, selected, counted as asked."""
    user = feed_user(request, store)
    name = name.removesuffix("()")
    if name not in FEED_SETS:
        raise NotFound(f"{name}: no such entity set (there are {', '.join(FEED_SETS)})")
    feed = FEED_SETS[name]
    options = _options(request)
    select = [s.strip() for s in options.get("$select", "").split(",") if s.strip()] or list(feed.columns)
    for prop in select:
        if prop not in feed.columns:
            raise BadRequest(f"$select: {name} has no property {prop!r}")
    conditions = _Parser(name, options["$filter"]).parse() if options.get("$filter", "").strip() else []
    top = _number(options, "$top", MAX_TOP)
    skip = _number(options, "$skip", 10**9) or 0
    after = _skiptoken(options.get("$skiptoken"), len(feed.key))
    count = options.get("$count", "false").lower()
    if count not in ("true", "false"):
        raise BadRequest(f"$count: true or false, not {count!r}")
    size = PAGE if top is None else min(PAGE, top)
    with store.read() as db:
        # One more than the page: a next link only when there is a next page.
        rows = queries.feed_page(db, user.scope, name, select, conditions, after, skip if after is None else 0,
                                 size + 1)
        total = queries.feed_count(db, user.scope, name, conditions) if count == "true" else None
    base = base_url(request, settings)
    context = f"{base}$metadata#{name}" + (f"({','.join(select)})" if "$select" in options else "")
    body: dict = {"@odata.context": context}
    if total is not None:
        body["@odata.count"] = total
    more, rows = len(rows) > size, rows[:size]
    body["value"] = [{key: row[key] for key in select} for row in rows]
    left = None if top is None else top - len(rows)
    if more and (left is None or left > 0):
        last = [rows[-1][k] for k in feed.key]
        token = base64.urlsafe_b64encode(msgspec.json.encode(last)).decode().rstrip("=")
        params = {k: v for k, v in options.items() if k not in ("$skip", "$skiptoken", "$top")}
        if left is not None:
            params["$top"] = str(left)
        params["$skiptoken"] = token
        body["@odata.nextLink"] = f"{base}{name}?{urlencode(params)}"
    return _json(body)


def odata_error(request: Request, exc: Exception) -> Response:
    """Errors in OData's JSON form: {"error": {"code", "message"}}."""
    status, message, headers, _ = describe(exc)
    return Response(msgspec.json.encode({"error": {"code": str(status), "message": message}}), status_code=status,
                    media_type=JSON, headers={**HEADERS, **headers})


def router() -> Router:
    return Router(path="/office/odata", route_handlers=[service, metadata, entity_set],
                  exception_handlers={Exception: odata_error}, include_in_schema=False)
