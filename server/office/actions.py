"""Corrective actions: every checklist item answered "problem" (sync/views.py keeps them at ingest).

Listed with their age, filtered by the URL like the other lists, exported as CSV and XLSX; an open
one is closed here by hand with a note (admins, and regional users for their shops), in one
transaction with its audit entry. A later run that finds the item ok, or a maintenance entry of
the item's kind, closes one by itself.
"""

from datetime import UTC, datetime

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream

from server import queries, writes
from server.office.access import address_of, check_filters, may_edit
from server.office.forms import ActionQuery, CloseForm, Form, read
from server.office.incidents import list_page
from server.office.records import export_list
from server.office.render import Renderer
from server.queries import ActionFilter, OfficeUser
from server.settings import Settings
from server.store import Store, now
from sync.errors import Conflict, NotFound
from sync.pan import mask_pans


def action_filter(db, user: OfficeUser, query: ActionQuery, render: Renderer) -> ActionFilter:
    check_filters(db, user, query.shop, query.region)
    return ActionFilter(shop=query.shop, region=query.region, checklist=query.checklist, item=query.item,
                        state=None if query.state == "all" else query.state,
                        **render.clock.span(query.from_, query.to))


def age_days(opened_at: str, until: str | None = None) -> int:
    """Whole days an action has been (or was) open."""
    end = datetime.fromisoformat(until) if until else datetime.now(UTC)
    return max(0, (end - datetime.fromisoformat(opened_at)).days)


@get("/actions", sync_to_thread=True)
def action_list(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """Corrective actions (open ones unless asked), newest first, with their age."""
    return list_page(request, store, render, ActionQuery, action_filter, queries.actions, "actions.html", "opened_at",
                     age=age_days)


@post("/actions/{shop:int}/{run:str}/{item:str}/close", guards=[may_edit], sync_to_thread=True)
def action_close(request: Request, shop: FromPath[int], run: FromPath[str], item: FromPath[str], data: Form,
                 store: NamedDependency[Store]) -> Response:
    """Close an open action by hand, with a note saying what was done."""
    form = read(data, CloseForm)
    user: OfficeUser = request.user
    with store.write() as db:
        found = queries.action(db, user.scope, shop, run, item)
        if found is None:
            raise NotFound(f"action {run}/{item}: no such action among the shops you may see")
        if not writes.close_action(db, shop, run, item, user.name, mask_pans(form.note.strip()), now()):
            raise Conflict(f"action {run}/{item}: it is closed already")
        writes.audit(db, now(), user.name, "action.closed", f"shop {shop}", f"{found.checklist}/{item} {run}",
                     address_of(request))
    back = request.query_params.get("next", "")
    return Redirect(back if back.startswith("/office/actions") else "/office/actions", status_code=303)


def _columns(render: Renderer, lang: str):
    t, titles, clock = render.translators[lang], render.titles[lang], render.clock
    header = [t(f"export.{name}") for name in ("opened_at", "shop_no", "shop", "region", "checklist", "item", "note",
                                                "age_days", "state", "closed_at", "closed_by", "close_note", "id")]

    def row(r: queries.ActionRow) -> list:
        closed_by = t(f"action.closed_{r.closed_kind}") if r.closed_kind else ""
        return [clock.show(r.opened_at), r.shop_id, r.shop, r.region or "", titles.checklist(r.checklist),
                titles.item(r.checklist, r.item), r.note, age_days(r.opened_at, r.closed_at), t(f"action.{r.state}"),
                clock.show(r.closed_at), closed_by, r.close_note or "", r.run]

    return header, row


def _export(request: Request, store: Store, render: Renderer, settings: Settings, name: str) -> Stream:
    return export_list(request, store, render, settings, name, "actions", ActionQuery, action_filter, queries.actions,
                       "opened_at", _columns)


@get("/actions.csv", sync_to_thread=True)
def actions_csv(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer],
                settings: NamedDependency[Settings]) -> Stream:
    """The filtered actions as CSV, streamed."""
    return _export(request, store, render, settings, "actions.csv")


@get("/actions.xlsx", sync_to_thread=True)
def actions_xlsx(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer],
                 settings: NamedDependency[Settings]) -> Stream:
    """The filtered actions as XLSX, streamed."""
    return _export(request, store, render, settings, "actions.xlsx")
