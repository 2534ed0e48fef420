"""People (admins only): head-office users with their roles and regions, and the audit log."""


from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from server import queries
from server.office import accounts
from server.office.access import address_of, admin_only
from server.office.forms import AuditQuery, Form, UserForm, read
from server.office.render import Renderer
from server.store import Store, now
from sync.errors import BadRequest, NotFound

AUDIT_PAGE = 100


def split_regions(text: str) -> list[str]:
    """Regions as typed: separated by commas (, ， or 、)."""
    for separator in ("，", "、"):
        text = text.replace(separator, ",")
    return [region.strip() for region in text.split(",") if region.strip()]


@get("/people", guards=[admin_only], sync_to_thread=True)
def people(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """Every head-office user, and a form to add one."""
    with store.read() as db:
        listed = queries.users(db)
        regions = queries.regions(db, queries.Scope())
    return render(request, "people.html", people=listed, regions=regions)


@post("/people", guards=[admin_only], sync_to_thread=True)
def person_add(request: Request, data: Form, store: NamedDependency[Store]) -> Response:
    """Add a user with a role (and, for a regional user, their regions) and a first password."""
    form = read(data, UserForm)
    user = accounts.new_user(form.name, form.role, form.password, split_regions(form.regions))
    with store.write() as db:
        accounts.add_user(db, user, request.user.name, now(), address_of(request))
    return Redirect("/office/people", status_code=303)


@post("/people/{user_id:int}/disable", guards=[admin_only], sync_to_thread=True)
def person_disable(request: Request, user_id: FromPath[int], store: NamedDependency[Store]) -> Response:
    """Disable a user: they cannot sign in, and their sessions end at their next request."""
    if user_id == request.user.id:
        raise BadRequest("user: you cannot disable yourself; ask another admin")
    with store.write() as db:
        found = next((u for u in queries.users(db) if u.id == user_id), None)
        if found is None:
            raise NotFound(f"user {user_id}: no such user")
        accounts.disable_user(db, found.name, request.user.name, now(), address_of(request))
    return Redirect("/office/people", status_code=303)


@get("/audit", guards=[admin_only], sync_to_thread=True)
def audit(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """The audit log, newest first: who did what, when, from where."""
    query = read(request.query_params, AuditQuery)
    before = int(query.after) if query.after and query.after.isdigit() else None
    with store.read() as db:
        entries = queries.audit_entries(db, before, query.action, AUDIT_PAGE)
    more = str(entries[-1].id) if len(entries) == AUDIT_PAGE else None
    return render(request, "audit.html", query=query, entries=entries, next=more, actions=ACTIONS)


ACTIONS = ("signin", "signin.failed", "signin.limited", "signout", "user.added", "user.disabled", "shop.added",
           "shop.changed", "terminal.added", "terminal.changed", "terminal.removed", "staff.added", "staff.removed",
           "code.issued", "device.revoked", "export", "action.closed", "rule.added", "rule.changed", "target.added",
           "target.enabled", "target.disabled", "feed.token.added", "feed.token.revoked")
