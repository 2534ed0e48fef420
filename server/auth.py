"""Devices and their tokens: one-time enrollment codes, bearer tokens, and the API's auth middleware.

A code is 16 characters from a 30-letter alphabet (about 78 bits), so a plain sha256 of it is
safe to keep: nobody can guess one within its lifetime. Tokens are 32 random bytes; the server
keeps only their sha256, so a copy of the database enrolls nobody.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import anyio
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlite_utils import Database

from server import queries, writes
from server.queries import TokenHolder
from server.store import Store
from sync.errors import Conflict, Forbidden, NotFound, Unauthorized

# No 0/O, 1/I/L or U: a code is read aloud and typed on a phone without mix-ups.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LENGTH = 4, 4
CODE_HOURS = 24
SEEN_EVERY_MINUTES = 5

Device = TokenHolder  # what request.user is on every authenticated API route


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _code_key(code: str) -> str:
    """Codes are typed by people: case and dashes do not matter."""
    return _digest(code.upper().replace("-", ""))


def issue_code(db: Database, shop_id: int, hours: float = CODE_HOURS, kind: str = "phone") -> tuple[str, str]:
    """A new one-time code for a shop (enrolling a phone, or a hub) and when it expires."""
    if queries.shop(db, shop_id) is None:
        raise NotFound(f"shop {shop_id}: no such shop")
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH)) for _ in range(CODE_GROUPS))
    code = "-".join(groups)
    created = datetime.now(UTC)
    expires = (created + timedelta(hours=hours)).isoformat()
    writes.add_enroll_code(db, _code_key(code), shop_id, created.isoformat(), expires, kind)
    return code, expires


def enroll_url(base: str, code: str, shop: str | None = None) -> str:
    """The address a phone opens (typed, or from a QR code) to enroll with a code filled in; the shop's
    name too, so the phone can suggest a name a person recognises ("model · shop")."""
    query = urlencode({"code": code, **({"shop": shop} if shop else {})}, quote_via=quote)
    return f"{base.rstrip('/')}/zh/enroll?{query}"


def code_prefix(code: str) -> str:
    """The first group of a code as typed, the key its attempts are counted under."""
    return code.upper().replace("-", "")[:CODE_GROUP_LENGTH]


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def check_code(db: Database, code: str, device_id: str, now: str) -> queries.EnrollCode:
    """The code, if this device may spend it: known, not spent by another device, not expired."""
    found = queries.enroll_code(db, _code_key(code))
    if found is None:
        raise Forbidden("code: unknown enrollment code; check it, or ask for a new one")
    # The same device may spend its code again (its first answer may have been lost on the way).
    if found.used_by is not None and found.used_by != device_id:
        raise Forbidden("code: this enrollment code has been used already; ask for a new one")
    if found.expires_at <= now:
        raise Forbidden(f"code: this enrollment code expired at {found.expires_at}; ask for a new one")
    return found


def enroll(db: Database, code: str, device_id: str, name: str, now: str, holder: TokenHolder | None = None
           ) -> tuple[str, queries.Shop]:
    """Spend a code: a new token and the shop.

    A device id that is enrolled and not revoked enrolls again only as itself: spending the same
    code again (its first answer was lost on the way), or presenting its live token (`holder`).
    Anyone else naming it is refused, so nobody can revoke or move another's device.
    """
    found = check_code(db, code, device_id, now)
    enrolled = queries.enrolled_device(db, device_id)
    itself = found.used_by == device_id or (holder is not None and holder.id == device_id)
    if enrolled is not None and enrolled.revoked_at is None and not itself:
        raise Conflict("device: this device id is enrolled already; enroll from that device with its token, "
                       "or revoke it first")
    writes.use_enroll_code(db, _code_key(code), device_id, now)
    writes.enroll_device(db, device_id, found.shop_id, name, found.kind, now)
    writes.revoke_tokens(db, device_id, now)
    token = secrets.token_urlsafe(32)
    writes.add_token(db, _digest(token), device_id, found.shop_id, now)
    return token, queries.Shop(id=found.shop_id, name=found.shop_name)


def authenticate(db: Database, token: str) -> Device | None:
    """The device a live token belongs to, or None for an unknown or revoked one."""
    return queries.token_holder(db, _digest(token))


def revoke_device(db: Database, device_id: str, now: str) -> int:
    """Revoke a device and every token it holds; the number of live tokens revoked."""
    if not queries.device_exists(db, device_id):
        raise NotFound(f"device {device_id}: no such device")
    return writes.revoke_device(db, device_id, now)


class BearerAuth(AbstractAuthenticationMiddleware):
    """Every API route not marked exclude_from_auth needs `Authorization: Bearer <token>`."""

    def __init__(self, app, store: Store, **kwargs):
        super().__init__(app, **kwargs)
        self.store = store

    def _lookup(self, token: str) -> Device | None:
        with self.store.read() as db:
            device = authenticate(db, token)
        if device is not None:
            self._seen(device)
        return device

    def _seen(self, device: Device) -> None:
        """Note when a device last called, for the office's device list: a write every few minutes
        a device at most, and one a crash may lose (it says "seen", it holds no record)."""
        at = datetime.now(UTC)
        stale = (at - timedelta(minutes=SEEN_EVERY_MINUTES)).isoformat()
        if device.last_seen_at is None or device.last_seen_at < stale:
            with self.store.write(durable=False) as db:
                writes.device_seen(db, device.id, at.isoformat(), stale)

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        token = bearer_token(connection.headers.get("authorization", ""))
        if not token:
            raise Unauthorized("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        # In a worker thread: SQLite is never touched on the event loop, which serves everyone.
        device = await anyio.to_thread.run_sync(self._lookup, token)
        if device is None:
            raise Unauthorized("unknown or revoked token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return AuthenticationResult(user=device, auth=token)
