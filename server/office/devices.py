"""Devices: every phone and hub with its shop, when it enrolled, was last seen and last synced, and
how many of its events are held; revoking one stops its token at once (the API looks the token
up on every request)."""

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from server import auth, queries, writes
from server.office.access import address_of, check_filters, may_edit, safe_next
from server.office.forms import DeviceQuery, Form, parse_cursor, read
from server.office.incidents import PAGE, filter_choices, next_cursor
from server.office.render import Renderer
from server.queries import OfficeUser
from server.store import Store, now
from sync.errors import NotFound


@get("/devices", sync_to_thread=True)
def device_list(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """Devices in the user's scope, the latest enrolled first."""
    query = read(request.query_params, DeviceQuery)
    user: OfficeUser = request.user
    active = None if query.state is None else query.state == "active"
    with store.read() as db:
        check_filters(db, user, query.shop, query.region)
        rows = queries.devices_page(db, user.scope, query.shop, query.region, active, parse_cursor(query.after), PAGE)
        choices = filter_choices(db, user.scope, query.region)
    return render(request, "devices.html", query=query, rows=rows, next=next_cursor(rows, PAGE, "enrolled_at"),
                  **choices)


@post("/devices/{device_id:str}/revoke", guards=[may_edit], sync_to_thread=True)
def device_revoke(request: Request, device_id: FromPath[str], data: Form, store: NamedDependency[Store]) -> Response:
    """Revoke a device: its tokens stop working at once; it can enroll again with a new code."""
    user: OfficeUser = request.user
    with store.write() as db:
        found = queries.device_row(db, user.scope, device_id)
        if found is None:
            raise NotFound(f"device {device_id}: no such device among the shops you may see")
        count = auth.revoke_device(db, device_id, now())
        writes.audit(db, now(), user.name, "device.revoked", f"{found.shop_id} {found.name}",
                     f"{device_id} ({count} tokens)", address_of(request))
    return Redirect(safe_next(data.get("next")), status_code=303)
