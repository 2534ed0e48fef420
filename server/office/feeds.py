"""Feed tokens: each user makes their own tokens for the OData feed (server/odata.py), to paste
into Excel or Power BI. A token is shown once, kept as its sha256, and revoked here; it reads
what its user may read, and stops with the user."""

import hashlib
import secrets

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from server import queries, writes
from server.office.access import address_of
from server.office.forms import FeedTokenForm, Form, read
from server.office.render import Renderer
from server.queries import OfficeUser
from server.settings import Settings
from server.store import Store, now
from sync.errors import NotFound


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(request: Request, settings: Settings) -> str:
    base = settings.public_url or str(request.base_url)
    return base.rstrip("/") + "/office/odata/"


def _page(request: Request, store: Store, render: Renderer, settings: Settings, token: str | None = None) -> Response:
    user: OfficeUser = request.user
    with store.read() as db:
        tokens = queries.feed_tokens(db, user.id)
    return render(request, "feeds.html", tokens=tokens, token=token, url=feed_url(request, settings))


@get("/feeds", sync_to_thread=True)
def feeds(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer],
          settings: NamedDependency[Settings]) -> Response:
    """Your feed tokens, and how to open the feed in Excel or Power BI."""
    return _page(request, store, render, settings)


@post("/feeds", sync_to_thread=True)
def feed_add(request: Request, data: Form, store: NamedDependency[Store], render: NamedDependency[Renderer],
             settings: NamedDependency[Settings]) -> Response:
    """Make a feed token: shown on this page once, never again."""
    form = read(data, FeedTokenForm)
    user: OfficeUser = request.user
    token = "pf_" + secrets.token_urlsafe(32)
    with store.write() as db:
        writes.add_feed_token(db, user.id, token_hash(token), form.name, now())
        writes.audit(db, now(), user.name, "feed.token.added", user.name, form.name, address_of(request))
    return _page(request, store, render, settings, token)


@post("/feeds/{token_id:int}/revoke", sync_to_thread=True)
def feed_revoke(request: Request, token_id: FromPath[int], store: NamedDependency[Store]) -> Response:
    """Revoke one of your feed tokens: it stops working at once."""
    user: OfficeUser = request.user
    with store.write() as db:
        if not writes.revoke_feed_token(db, user.id, token_id, now()):
            raise NotFound(f"feed token {token_id}: none of your live tokens has this number")
        writes.audit(db, now(), user.name, "feed.token.revoked", user.name, str(token_id), address_of(request))
    return Redirect("/office/feeds", status_code=303)
