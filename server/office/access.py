"""Who is signed in, and what their role lets them do.

Every office route but the sign-in page needs a session whose user exists and is not disabled;
the user is looked up on each request (in a worker thread), so disabling someone ends their
sessions at once. A request without one is sent to the sign-in page, which brings the browser
back where it was going. Roles are checked by guards; which shops a user reaches is their
`scope`, which every query applies in its SQL.
"""

from urllib.parse import quote

import anyio
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.response import Redirect

from server import queries
from server.office.sessions import STORE_NAME
from server.queries import OfficeUser
from server.store import Store
from sync.errors import Forbidden, NotFound, Unauthorized

SESSION_USER = "user"  # the session's one key: the signed-in user's id


class SignInRequired(Unauthorized):
    """No session, or its user is gone or disabled: the browser goes to the sign-in page."""


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of the office only, never another site."""
    if target and target.startswith("/office") and not target.startswith("//") and "\\" not in target:
        return target
    return "/office/"


def to_sign_in(request: Request, exc: SignInRequired) -> Response:
    """The sign-in page, coming back to this page (a GET) or to the office's home afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = here if request.method == "GET" else "/office/"
    return Redirect(f"/office/login?next={quote(target, safe='/')}", status_code=303)


class OfficeAuth(AbstractAuthenticationMiddleware):
    """Sets request.user to the session's OfficeUser; raises SignInRequired without one."""

    def __init__(self, app, store: Store, **kwargs):
        super().__init__(app, **kwargs)
        self.store = store

    def _lookup(self, user_id: int) -> OfficeUser | None:
        with self.store.read() as db:
            return queries.office_user(db, user_id)

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        user_id = connection.session.get(SESSION_USER) if connection.scope.get("session") else None
        user = await anyio.to_thread.run_sync(self._lookup, user_id) if isinstance(user_id, int) else None
        if user is None:
            if user_id is not None:  # disabled or removed since: that session is over
                await connection.app.stores.get(STORE_NAME).delete(connection.get_session_id() or "")
            raise SignInRequired("sign in to continue")
        return AuthenticationResult(user=user, auth=None)


def address_of(connection: ASGIConnection) -> str:
    """The client's address, as the audit log and the sign-in limits record it."""
    return connection.client.host if connection.client else "unknown"


def user_of(connection: ASGIConnection) -> OfficeUser:
    return connection.scope["user"]


def may_edit(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A guard: admins, and regional users for their shops (the route checks which shop); not viewers."""
    if user_of(connection).role not in ("admin", "regional"):
        raise Forbidden("your role may look but not change anything")


def admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A guard: admins only (people, the audit log, new shops)."""
    if user_of(connection).role != "admin":
        raise Forbidden("only an admin may do this")


def check_filters(db, user: OfficeUser, shop: int | None, region: str | None) -> None:
    """A filter may only name a shop or region within the user's scope (the SQL applies the scope
    anyway; this says so instead of showing an empty list)."""
    regions = user.scope.regions
    if region is not None and regions is not None and region not in regions:
        raise Forbidden(f"region: {region!r} is not one of your regions")
    if shop is not None and queries.shop_row(db, user.scope, shop) is None:
        raise NotFound(f"shop: no shop numbered {shop} among the shops you may see")
