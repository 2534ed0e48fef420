"""Checklist runs and maintenance entries: filtered lists, detail pages, and their exports.

The same shape as the incidents (server/office/incidents.py): filters from the URL, checked
against the user's scope, keyset pages, and CSV / XLSX exports that read the pages the list reads.
"""

from collections.abc import Iterator
from pathlib import Path

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream

from server import queries
from server.office.access import check_filters
from server.office.exports import (
    PageReader,
    Sheet,
    csv_stream,
    file_stream,
    keyset_pages,
    xlsx_file,
)
from server.office.forms import MaintenanceQuery, RunQuery, read
from server.office.incidents import audit_export, download, list_page
from server.office.render import Renderer
from server.queries import MaintenanceFilter, OfficeUser, RunFilter
from server.settings import Settings
from server.store import Store
from sync.errors import NotFound
from sync.types import event_decoder

_fields = msgspec.json.Decoder(dict[str, str])


def run_filter(db, user: OfficeUser, query: RunQuery, render: Renderer) -> RunFilter:
    check_filters(db, user, query.shop, query.region)
    return RunFilter(shop=query.shop, region=query.region, checklist=query.checklist, problems=query.problems,
                     **render.clock.span(query.from_, query.to))


def maintenance_filter(db, user: OfficeUser, query: MaintenanceQuery, render: Renderer) -> MaintenanceFilter:
    check_filters(db, user, query.shop, query.region)
    return MaintenanceFilter(shop=query.shop, region=query.region, kind=query.kind, terminal=query.terminal,
                             **render.clock.span(query.from_, query.to))


@get("/checklists", sync_to_thread=True)
def run_list(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """Checklist runs, newest first, filtered by the URL's parameters."""
    return list_page(request, store, render, RunQuery, run_filter, queries.runs, "runs.html", "completed_at")


@get("/checklists/{shop:int}/{run_id:str}", sync_to_thread=True)
def run_detail(request: Request, shop: FromPath[int], run_id: FromPath[str], store: NamedDependency[Store],
               render: NamedDependency[Renderer]) -> Response:
    """One checklist run: every item with its result, note and photo."""
    with store.read() as db:
        found = queries.shop_event(db, request.user.scope, shop, run_id, "checklist.completed")
    if found is None:
        raise NotFound(f"checklist run {run_id}: no such run among the shops you may see")
    return render(request, "run.html", found=found, run=event_decoder.decode(found.event.body))


@get("/maintenance", sync_to_thread=True)
def maintenance_list(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]
                     ) -> Response:
    """Maintenance entries, newest first, filtered by the URL's parameters."""
    return list_page(request, store, render, MaintenanceQuery, maintenance_filter, queries.maintenance_entries,
                     "maintenance.html", "done_at")


@get("/maintenance/{shop:int}/{entry_id:str}", sync_to_thread=True)
def maintenance_detail(request: Request, shop: FromPath[int], entry_id: FromPath[str],
                       store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """One maintenance entry: terminal, kind, its fields by their labels, note and photos."""
    with store.read() as db:
        found = queries.shop_event(db, request.user.scope, shop, entry_id, "maintenance.logged")
    if found is None:
        raise NotFound(f"maintenance entry {entry_id}: no such entry among the shops you may see")
    return render(request, "maintenance_entry.html", found=found, entry=event_decoder.decode(found.event.body))


# ---- exports ----


def _run_columns(render: Renderer, lang: str):
    t, titles, clock = render.translators[lang], render.titles[lang], render.clock
    header = [t(f"export.{name}") for name in ("completed_at", "shop_no", "shop", "region", "checklist", "period",
                                                "signed_by", "items", "problems", "photos", "id")]

    def row(r) -> list:
        return [clock.show(r.completed_at), r.shop_id, r.shop, r.region or "", titles.checklist(r.checklist), r.period,
                r.signed_by, r.items, r.problems, r.photos, r.id]

    return header, row


def _maintenance_columns(render: Renderer, lang: str):
    t, titles, clock = render.translators[lang], render.titles[lang], render.clock
    header = [t(f"export.{name}") for name in ("done_at", "shop_no", "shop", "region", "terminal", "kind",
                                                "fields", "note", "recorded_by", "photos", "id")]

    def row(r) -> list:
        fields = "; ".join(f"{titles.field(r.kind, k)}: {v}" for k, v in _fields.decode(r.fields).items())
        return [clock.show(r.done_at), r.shop_id, r.shop, r.region or "", r.terminal, titles.kind(r.kind), fields,
                r.note, r.recorded_by, r.photos, r.id]

    return header, row


def respond(request, render, settings, name: str, kind: str, pages: Iterator[list], columns) -> Stream:
    """A list's export as CSV or XLSX (by the name's extension), from its pages and its columns."""
    lang = request.user.lang
    header, row = columns(render, lang)
    if name.endswith(".csv"):
        return Stream(csv_stream(header, ([row(r) for r in rows] for rows in pages)),
                      media_type="text/csv", headers=download(name))
    sheet = Sheet(render.translators[lang](f"export.sheet_{kind}"), header)

    def stream() -> Iterator[bytes]:
        yield from file_stream(xlsx_file(Path(settings.data) / "tmp", [sheet], ([[row(r) for r in rows]]
                                                                                   for rows in pages)))

    return Stream(stream(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  headers=download(name))


def export_list(request: Request, store: Store, render: Renderer, settings: Settings, name: str, kind: str,
                query_type, make_filter, fetch, at: str, columns) -> Stream:
    """A filtered list's export (runs, maintenance, actions): the URL's filters checked against the
    user's scope, the download audited, the list's keyset pages streamed as CSV or XLSX."""
    query = read(request.query_params, query_type)
    user: OfficeUser = request.user
    with store.read() as db:
        f = make_filter(db, user, query, render)
    audit_export(request, store, name, query)
    pages = keyset_pages(PageReader(store),
                         lambda db, after, limit: fetch(db, user.scope, f, after, limit), at)
    return respond(request, render, settings, name, kind, pages, columns)


def _runs(request: Request, store: Store, render: Renderer, settings: Settings, name: str) -> Stream:
    return export_list(request, store, render, settings, name, "runs", RunQuery, run_filter, queries.runs,
                       "completed_at", _run_columns)


def _maintenance(request: Request, store: Store, render: Renderer, settings: Settings, name: str) -> Stream:
    return export_list(request, store, render, settings, name, "maintenance", MaintenanceQuery, maintenance_filter,
                       queries.maintenance_entries, "done_at", _maintenance_columns)


@get("/checklists.csv", sync_to_thread=True)
def runs_csv(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer],
             settings: NamedDependency[Settings]) -> Stream:
    """The filtered checklist runs as CSV, streamed."""
    return _runs(request, store, render, settings, "checklists.csv")


@get("/checklists.xlsx", sync_to_thread=True)
def runs_xlsx(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer],
              settings: NamedDependency[Settings]) -> Stream:
    """The filtered checklist runs as XLSX, streamed."""
    return _runs(request, store, render, settings, "checklists.xlsx")


@get("/maintenance.csv", sync_to_thread=True)
def maintenance_csv(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer],
                    settings: NamedDependency[Settings]) -> Stream:
    """The filtered maintenance entries as CSV, streamed."""
    return _maintenance(request, store, render, settings, "maintenance.csv")


@get("/maintenance.xlsx", sync_to_thread=True)
def maintenance_xlsx(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer],
                     settings: NamedDependency[Settings]) -> Stream:
    """The filtered maintenance entries as XLSX, streamed."""
    return _maintenance(request, store, render, settings, "maintenance.xlsx")
