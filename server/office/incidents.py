"""Incidents: the filtered list, the detail page, and the exports (CSV, XLSX, ZIP of photos).

The list, its exports and the photo ZIP read through one filter (queries.IncidentFilter) built
from the URL's parameters, so a bookmarked or shared list and its download hold the same rows.
"""

from collections.abc import Iterator
from pathlib import Path

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from server import queries, writes
from server.office.access import address_of, check_filters
from server.office.exports import (
    PageReader,
    Sheet,
    csv_stream,
    file_stream,
    keyset_pages,
    xlsx_file,
    zip_stream,
)
from server.office.forms import IncidentQuery, cursor_text, parse_cursor, read
from server.office.render import Renderer
from server.queries import IncidentFilter, IncidentRow, OfficeUser, Scope
from server.settings import Settings
from server.store import Store, now
from sync.blobs import BlobStore
from sync.errors import NotFound
from sync.types import Transaction, event_decoder

PAGE = 50
_transaction = msgspec.json.Decoder(Transaction)
TX_FIELDS = ("amount", "currency", "kind", "entry", "rrn", "trace", "batch", "auth_code", "charged", "card_last4")


def transaction(text: str | None) -> Transaction | None:
    """An incident's transaction from its canonical JSON (incidents.tx), if told."""
    return _transaction.decode(text) if text else None
CHOICES = 200  # shops offered in a filter's list; past that, choose a region first
# Rough sizes for "what you are about to download": bytes a CSV / XLSX row takes (the XLSX with
# its sheet of checks), measured on bench/office.py's data: 208 and 175.
CSV_ROW_BYTES, XLSX_ROW_BYTES = 210, 175


def incident_filter(db, user: OfficeUser, query: IncidentQuery, render: Renderer) -> IncidentFilter:
    """The query's filters, checked against the user's scope, dates as the office's local days."""
    check_filters(db, user, query.shop, query.region)
    return IncidentFilter(shop=query.shop, region=query.region, code=query.code, outcome=query.outcome,
                          terminal=query.terminal, q=query.q, kind=query.kind, entry=query.entry,
                          charged=query.charged, **render.clock.span(query.from_, query.to))


def filter_choices(db, scope: Scope, region: str | None) -> dict:
    """What a filter form offers: the regions, and the shops (of the region) when they are few enough."""
    shops = queries.shop_choices(db, scope, region, CHOICES + 1)
    return {"regions": queries.regions(db, scope), "shops": shops if len(shops) <= CHOICES else None}


def next_cursor(rows: list, limit: int, at: str) -> str | None:
    """The cursor of the page after this one, if the page was full."""
    if len(rows) < limit:
        return None
    last = rows[-1]
    return cursor_text(getattr(last, at), last.id, last.shop_id)


def list_page(request: Request, store: Store, render: Renderer, query_type, make_filter, fetch, template: str,
              at: str, **context) -> Response:
    """A filtered list a page at a time (incidents, runs, maintenance): the URL's filters checked
    against the user's scope, a keyset page, the filter form's choices."""
    query = read(request.query_params, query_type)
    user: OfficeUser = request.user
    with store.read() as db:
        f = make_filter(db, user, query, render)
        rows = fetch(db, user.scope, f, parse_cursor(query.after), PAGE)
        choices = filter_choices(db, user.scope, query.region)
    return render(request, template, query=query, rows=rows, next=next_cursor(rows, PAGE, at), **choices, **context)


@get("/incidents", sync_to_thread=True)
def incident_list(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """Incidents, newest first, filtered by the URL's parameters, a page at a time."""
    return list_page(request, store, render, IncidentQuery, incident_filter, queries.incidents, "incidents.html",
                     "opened_at")


@get("/incidents/export", sync_to_thread=True)
def incident_export(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """What an export of this list will hold, and how big it will be, before it is downloaded."""
    query = read(request.query_params, IncidentQuery)
    user: OfficeUser = request.user
    with store.read() as db:
        f = incident_filter(db, user, query, render)
        count, photos = queries.incidents_count(db, user.scope, f)
        photo_bytes = photos * queries.average_photo_bytes(db, user.scope)
    return render(request, "export.html", query=query.params(after=None), count=count, photos=photos,
                  sizes={"csv": count * CSV_ROW_BYTES, "xlsx": count * XLSX_ROW_BYTES, "zip": photo_bytes},
                  list_url=query.link("/office/incidents", after=None), base="/office/incidents")


@get("/incidents/{incident_id:str}", sync_to_thread=True)
def incident_detail(request: Request, incident_id: FromPath[str], store: NamedDependency[Store],
                    render: NamedDependency[Renderer], shop: FromQuery[int | None] = None
                    ) -> Response:
    """One incident: where and when, who recorded it, each check tried with its answer, the photos."""
    user: OfficeUser = request.user
    with store.read() as db:
        found = queries.incident(db, user.scope, incident_id, shop)
        if found is None:
            raise NotFound(f"incident {incident_id}: no such incident among the shops you may see")
        events = queries.incident_events(db, found.shop_id, found.id)
        terminal = next((t for t in queries.terminals(db, found.shop_id) if t.name == found.terminal), None)
    timeline = [(row, event_decoder.decode(row.body)) for row in events]
    opened = next((row for row, _ in timeline if row.type == "incident.opened"), None)
    return render(request, "incident.html", incident=found, timeline=timeline, opened=opened, terminal=terminal,
                  tx=transaction(found.tx))


# ---- exports ----


def _pages(reader: PageReader, scope: Scope, f: IncidentFilter) -> Iterator[list[IncidentRow]]:
    return keyset_pages(reader, lambda db, after, limit: queries.incidents(db, scope, f, after, limit), "opened_at")


def _reader(store: Store) -> PageReader:
    return PageReader(store)


def audit_export(request: Request, store: Store, what: str, query) -> None:
    """Note in the audit log who downloaded what, with which filters."""
    with store.write() as db:
        writes.audit(db, now(), request.user.name, "export", what, query.link("", after=None).lstrip("?"),
                     address_of(request))


def _start(request: Request, store: Store, render: Renderer, what: str) -> tuple[IncidentFilter, str]:
    """The export's filters (checked against the scope) and its language; the download is audited."""
    query = read(request.query_params, IncidentQuery)
    user: OfficeUser = request.user
    with store.read() as db:
        f = incident_filter(db, user, query, render)
    audit_export(request, store, what, query)
    return f, user.lang


def _header(render: Renderer, lang: str) -> list[str]:
    t = render.translators[lang]
    return [t(f"export.{name}") for name in ("when", "shop_no", "shop", "region", "terminal", "code", "code_title",
                                              "outcome", "steps", "photos", "recorded_by", "note", "closed_at",
                                              *(f"tx_{field}" for field in TX_FIELDS), "id")]


def _row(render: Renderer, lang: str, row: IncidentRow) -> list:
    t, clock = render.translators[lang], render.clock
    return [clock.show(row.opened_at), row.shop_id, row.shop, row.region or "", row.terminal, row.code,
            render.titles[lang].code(row.code), t(f"outcome.{row.status}"), row.steps, row.photos, row.recorded_by,
            row.note, clock.show(row.closed_at), *_tx_cells(t, transaction(row.tx)), row.id]


def _tx_cells(t, tx: Transaction | None) -> list[str]:
    """A transaction's export cells, in TX_FIELDS' order: kinds, entry modes and answers in words."""
    if tx is None:
        return [""] * len(TX_FIELDS)
    words = {"kind": "tx.kind.", "entry": "tx.entry.", "charged": "tx.charged."}
    cells = []
    for field in TX_FIELDS:
        value = getattr(tx, field)
        cells.append("" if value is None else t(words[field] + value) if field in words else str(value))
    return cells


def download(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@get("/incidents.csv", sync_to_thread=True)
def incidents_csv(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Stream:
    """The filtered incidents as CSV (UTF-8 with a BOM, formulas neutralised), streamed."""
    f, lang = _start(request, store, render, "incidents.csv")
    pages = ([_row(render, lang, row) for row in rows] for rows in _pages(_reader(store), request.user.scope, f))
    return Stream(csv_stream(_header(render, lang), pages), media_type="text/csv",
                  headers=download("incidents.csv"))


@get("/incidents.xlsx", sync_to_thread=True)
def incidents_xlsx(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer],
                   settings: NamedDependency[Settings]) -> Stream:
    """The filtered incidents as XLSX: a sheet of incidents and a sheet of the checks tried."""
    f, lang = _start(request, store, render, "incidents.xlsx")
    t, titles, scope = render.translators[lang], render.titles[lang], request.user.scope
    sheets = [Sheet(t("export.sheet_incidents"), _header(render, lang), [17, 8, 24, 12, 18, 8, 30, 10, 8, 8, 14, 40, 17, 10,
                                                                           6, 10, 14, 16, 14, 8, 8, 10, 8, 38]),
              Sheet(t("export.sheet_steps"), [t(f"export.{name}") for name in (
                  "id", "shop_no", "when", "step", "answer", "note", "recorded_by")], [38, 8, 17, 30, 12, 40, 14])]

    def pages():
        reader = _reader(store)
        for rows in _pages(reader, scope, f):
            with reader() as db:
                steps = queries.incident_events_of(db, [(row.shop_id, row.id) for row in rows], "incident.step")
            step_rows = []
            for shop, incident, event in steps:
                p = event_decoder.decode(event.body).payload
                step_rows.append([incident, shop, render.clock.show(event.at), titles.step(p.flow, p.step),
                                  t(f"answer.{p.answer}"), p.note, event.recorded_by])
            yield [[_row(render, lang, row) for row in rows], step_rows]

    def stream() -> Iterator[bytes]:
        yield from file_stream(xlsx_file(Path(settings.data) / "tmp", sheets, pages()))

    return Stream(stream(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  headers=download("incidents.xlsx"))


@get("/incidents.zip", sync_to_thread=True)
def incidents_zip(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer],
                  blob_store: NamedDependency[BlobStore]) -> Stream:
    """The photos of the filtered incidents, one folder per incident named by its time, shop and id."""
    f, _ = _start(request, store, render, "incidents.zip")
    clock, scope = render.clock, request.user.scope

    def files():
        reader = _reader(store)
        for rows in _pages(reader, scope, f):
            opened = {(row.shop_id, row.id): row.opened_at for row in rows}
            with reader() as db:
                events = queries.incident_events_of(db, list(opened), photos_only=True)
            for shop, incident, event in events:
                folder = f"{clock.stamp(opened[shop, incident])}_shop{shop}_{incident}"
                for n, sha in enumerate(event_decoder.decode(event.body).blobs, 1):
                    yield f"{folder}/{clock.stamp(event.at)}_{event.type.partition('.')[2]}_{n}", sha

    return Stream(zip_stream(files(), blob_store), media_type="application/zip",
                  headers=download("incident-photos.zip"))
