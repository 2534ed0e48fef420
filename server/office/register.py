"""The shop register: shops with their region, address and support lines, terminals, staff, and
enrollment codes shown as text and as a QR code.

Admins add shops and edit every shop; a regional user edits the shops of their regions (and may
not move one out of them); a viewer reads. Everything here reaches the shop's phones at their
next pull. Each change is written with its audit entry in one transaction.
"""


import segno
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from markupsafe import Markup

from server import auth, queries, writes
from server.office.access import address_of, admin_only, may_edit
from server.office.forms import (
    CodeForm,
    Form,
    ShopForm,
    ShopQuery,
    StaffForm,
    TerminalForm,
    read,
)
from server.office.render import Renderer
from server.queries import OfficeUser
from server.settings import Settings
from server.store import Store, now
from sync.errors import Forbidden, NotFound

SHOPS_PAGE = 100
CODE_HOURS = 24


def _shop(db, user: OfficeUser, shop_id: int) -> queries.ShopRow:
    found = queries.shop_row(db, user.scope, shop_id)
    if found is None:
        raise NotFound(f"shop {shop_id}: no such shop among the shops you may see")
    return found


def _region_allowed(user: OfficeUser, region: str | None) -> None:
    if user.role == "regional" and region not in user.regions:
        raise Forbidden(f"region: a shop of yours stays in one of your regions ({', '.join(user.regions)})")


def _audit(db, request: Request, action: str, target: str, detail: str = "") -> None:
    writes.audit(db, now(), request.user.name, action, target, detail, address_of(request))


@get("/shops", sync_to_thread=True)
def shop_list(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """The shops in the user's scope, by number; admins add shops here."""
    query = read(request.query_params, ShopQuery)
    user: OfficeUser = request.user
    after = int(query.after) if query.after and query.after.isdigit() else 0
    with store.read() as db:
        rows = queries.shops_page(db, user.scope, query.region, query.q, after, SHOPS_PAGE)
        regions = queries.regions(db, user.scope)
    more = str(rows[-1].id) if len(rows) == SHOPS_PAGE else None
    return render(request, "shops.html", query=query, rows=rows, regions=regions, next=more)


@post("/shops", guards=[admin_only], sync_to_thread=True)
def shop_add(request: Request, data: Form, store: NamedDependency[Store]) -> Response:
    """Add a shop with its register details."""
    form = read(data, ShopForm)
    with store.write() as db:
        shop_id = writes.add_shop(db, form.name, now())
        writes.update_shop(db, shop_id, form.name, form.region, form.address, form.acquirer_phone, form.vendor_phone)
        _audit(db, request, "shop.added", f"{shop_id} {form.name}", form.region or "")
    return Redirect(f"/office/shops/{shop_id}", status_code=303)


def _shop_page(request: Request, store: Store, render: Renderer, shop_id: int, **extra) -> Response:
    user: OfficeUser = request.user
    with store.read() as db:
        shop = _shop(db, user, shop_id)
        terminals = queries.terminals(db, shop_id)
        staff = queries.staff(db, shop_id)
        devices = queries.devices_page(db, user.scope, shop=shop_id, limit=100)
        regions = queries.regions(db, user.scope)
    editable = user.role == "admin" or user.role == "regional"
    region_choices = list(user.regions) if user.role == "regional" else regions
    return render(request, "shop.html", shop=shop, terminals=terminals, staff=staff, devices=devices,
                  editable=editable, region_choices=region_choices, **extra)


@get("/shops/{shop_id:int}", sync_to_thread=True)
def shop_detail(request: Request, shop_id: FromPath[int], store: NamedDependency[Store],
                render: NamedDependency[Renderer]) -> Response:
    """A shop's register entry: details, terminals, staff, devices, and enrollment codes."""
    return _shop_page(request, store, render, shop_id)


@post("/shops/{shop_id:int}", guards=[may_edit], sync_to_thread=True)
def shop_update(request: Request, shop_id: FromPath[int], data: Form, store: NamedDependency[Store]) -> Response:
    """Change a shop's name, region, address or support lines."""
    form = read(data, ShopForm)
    user: OfficeUser = request.user
    _region_allowed(user, form.region)
    with store.write() as db:
        _shop(db, user, shop_id)
        writes.update_shop(db, shop_id, form.name, form.region, form.address, form.acquirer_phone, form.vendor_phone)
        _audit(db, request, "shop.changed", f"{shop_id} {form.name}", form.region or "")
    return Redirect(f"/office/shops/{shop_id}", status_code=303)


@post("/shops/{shop_id:int}/terminals", guards=[may_edit], sync_to_thread=True)
def terminal_add(request: Request, shop_id: FromPath[int], data: Form, store: NamedDependency[Store]) -> Response:
    """Add a terminal to a shop."""
    form = read(data, TerminalForm)
    with store.write() as db:
        _shop(db, request.user, shop_id)
        writes.add_terminal(db, shop_id, {name: getattr(form, name) for name in writes.TERMINAL_FIELDS})
        _audit(db, request, "terminal.added", f"{shop_id} {form.name}", form.tid or "")
    return Redirect(f"/office/shops/{shop_id}#terminals", status_code=303)


@post("/shops/{shop_id:int}/terminals/{terminal_id:int}", guards=[may_edit], sync_to_thread=True)
def terminal_update(request: Request, shop_id: FromPath[int], terminal_id: FromPath[int], data: Form,
                    store: NamedDependency[Store]) -> Response:
    """Change a terminal's details."""
    form = read(data, TerminalForm)
    with store.write() as db:
        _shop(db, request.user, shop_id)
        if not writes.update_terminal(db, shop_id, terminal_id, {n: getattr(form, n) for n in writes.TERMINAL_FIELDS}):
            raise NotFound(f"terminal {terminal_id}: no such terminal in shop {shop_id}")
        _audit(db, request, "terminal.changed", f"{shop_id} {form.name}", form.tid or "")
    return Redirect(f"/office/shops/{shop_id}#terminals", status_code=303)


@post("/shops/{shop_id:int}/terminals/{terminal_id:int}/remove", guards=[may_edit], sync_to_thread=True)
def terminal_remove(request: Request, shop_id: FromPath[int], terminal_id: FromPath[int],
                    store: NamedDependency[Store]) -> Response:
    """Take a terminal off a shop's register (its records keep its name)."""
    with store.write() as db:
        _shop(db, request.user, shop_id)
        if not writes.remove_terminal(db, shop_id, terminal_id):
            raise NotFound(f"terminal {terminal_id}: no such terminal in shop {shop_id}")
        _audit(db, request, "terminal.removed", f"{shop_id} #{terminal_id}")
    return Redirect(f"/office/shops/{shop_id}#terminals", status_code=303)


@post("/shops/{shop_id:int}/staff", guards=[may_edit], sync_to_thread=True)
def staff_add(request: Request, shop_id: FromPath[int], data: Form, store: NamedDependency[Store]) -> Response:
    """Add a name to a shop's staff (the names its phones offer for "recorded by")."""
    form = read(data, StaffForm)
    with store.write() as db:
        _shop(db, request.user, shop_id)
        writes.add_staff(db, shop_id, form.name)
        _audit(db, request, "staff.added", f"{shop_id} {form.name}")
    return Redirect(f"/office/shops/{shop_id}#staff", status_code=303)


@post("/shops/{shop_id:int}/staff/{staff_id:int}/remove", guards=[may_edit], sync_to_thread=True)
def staff_remove(request: Request, shop_id: FromPath[int], staff_id: FromPath[int],
                 store: NamedDependency[Store]) -> Response:
    """Take a name off a shop's staff."""
    with store.write() as db:
        _shop(db, request.user, shop_id)
        if not writes.remove_staff(db, shop_id, staff_id):
            raise NotFound(f"staff {staff_id}: no such name in shop {shop_id}")
        _audit(db, request, "staff.removed", f"{shop_id} #{staff_id}")
    return Redirect(f"/office/shops/{shop_id}#staff", status_code=303)


def public_base(settings: Settings, request: Request) -> str:
    """The address phones reach the server at: the public_url setting, else this request's own."""
    return settings.public_url or str(request.base_url)


def qr_svg(url: str, title: str) -> Markup:
    """A QR code of url as inline SVG (paths only: no script, no style attribute)."""
    return Markup(segno.make(url, error="m").svg_inline(scale=4, title=title, svgclass="qr", omitsize=True))


@post("/shops/{shop_id:int}/codes", guards=[may_edit], sync_to_thread=True)
def code_issue(request: Request, shop_id: FromPath[int], data: Form, store: NamedDependency[Store],
               settings: NamedDependency[Settings], render: NamedDependency[Renderer]) -> Response:
    """A one-time enrollment code for a phone (or the shop's hub), as text and as a QR code."""
    form = read(data, CodeForm)
    with store.write() as db:
        shop = _shop(db, request.user, shop_id)
        code, expires = auth.issue_code(db, shop_id, CODE_HOURS, form.kind)
        _audit(db, request, "code.issued", f"{shop_id} {shop.name}", form.kind)
    url = auth.enroll_url(public_base(settings, request), code, shop.name)
    t = render.translators[request.user.lang]
    return render(request, "code.html", shop=shop, code=code, url=url, expires=expires, kind=form.kind,
                  qr=qr_svg(url, t("code.qr_title")), public_url_set=settings.public_url is not None)
