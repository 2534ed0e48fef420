"""Signing in and out, and the language switch.

Failed sign-ins are limited per account and per address (server/limits.py: counted across every
app server); a password is checked against its argon2id hash outside the write lock (it takes tens
of milliseconds); every sign-in is logged in the audit log, whether it worked or not, and a
successful one gets a new session id.
"""

import math
from contextlib import suppress
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect

from server import writes
from server.limits import Limits
from server.office import accounts
from server.office.access import SESSION_USER, address_of, safe_next
from server.office.forms import Form, LangChoice, SignIn, read
from server.office.render import Renderer
from server.store import Store, now
from sync.errors import TooManyRequests
from sync.pan import mask_pans

PER_ACCOUNT = 5  # failed sign-ins in WINDOW at one account: a person mistyping, not a guesser
PER_ADDRESS = 20  # failed sign-ins in WINDOW from one address: an office behind one NAT, not a sweep
WINDOW = 15 * 60
PUBLIC = {"exclude_from_auth": True}


@get("/login", opt=PUBLIC, sync_to_thread=False)
def login_page(request: Request, render: NamedDependency[Renderer],
               target: Annotated[str | None, QueryParameter(name="next")] = None) -> Response:
    """The sign-in form."""
    return render(request, "login.html", target=safe_next(target), name="", error=None)


@post("/login", opt=PUBLIC, sync_to_thread=True)
def login(request: Request, data: Form, store: NamedDependency[Store], limits: NamedDependency[Limits],
          render: NamedDependency[Renderer]) -> Response:
    """Check a name and password; on success a new session, and back where the user was going."""
    form = read(data, SignIn)
    name, address, t = mask_pans(form.username.strip())[:80], address_of(request), render.translators[form.lang]

    def again(status: int, error: str) -> Response:
        return render(request, "login.html", status=status, lang=form.lang, target=safe_next(form.next),
                      name=name, error=error)

    by_address, by_account = f"office-signin:address:{address}", f"office-signin:account:{name.lower()}"
    try:
        limits.check(by_address, PER_ADDRESS, WINDOW, "sign-in from this address")
        limits.check(by_account, PER_ACCOUNT, WINDOW, "sign-in to this account")
    except TooManyRequests as exc:
        with store.write() as db:
            writes.audit(db, now(), name or "?", "signin.limited", name, "", address)
        minutes = math.ceil(int(exc.headers.get("Retry-After", "60")) / 60)
        return again(429, t("login.too_many", minutes=minutes))
    with store.read() as db:
        account = accounts.check_password(db, name, form.password) if name and form.password else None
    if account is None:
        for key, limit in ((by_address, PER_ADDRESS), (by_account, PER_ACCOUNT)):
            with suppress(TooManyRequests):  # this failure is counted; the next attempt is the one refused
                limits.hit(key, limit, WINDOW, "sign-in")
        with store.write() as db:
            writes.audit(db, now(), name or "?", "signin.failed", name, "", address)
        return again(400, t("login.wrong"))
    fresh = accounts.HASHER.hash(form.password) if accounts.needs_rehash(account.password_hash) else None
    with store.write() as db:
        if fresh:
            writes.set_password_hash(db, account.id, fresh)
        writes.audit(db, now(), account.name, "signin", account.name, "", address)
    request.clear_session()  # a new session id: whatever id the browser held before is dropped
    request.set_session({SESSION_USER: account.id})
    return Redirect(safe_next(form.next), status_code=303)


@post("/logout", sync_to_thread=True)
def logout(request: Request, store: NamedDependency[Store]) -> Response:
    """End the session."""
    with store.write() as db:
        writes.audit(db, now(), request.user.name, "signout", request.user.name, "", address_of(request))
    request.clear_session()
    return Redirect("/office/login", status_code=303)


@post("/lang", sync_to_thread=True)
def choose_lang(request: Request, data: Form, store: NamedDependency[Store]) -> Response:
    """Switch the user's language (remembered for their next sign-in too) and go back."""
    choice = read(data, LangChoice)
    with store.write() as db:
        writes.set_user_lang(db, request.user.id, choice.lang)
    return Redirect(safe_next(choice.next), status_code=303)
