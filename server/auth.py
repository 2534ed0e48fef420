"""Devices and their tokens: one-time enrollment codes, bearer tokens, and the API's auth middleware.

A code is 16 characters from a 30-letter alphabet (about 78 bits), so a plain sha256 of it is
safe to keep: nobody can guess one within its lifetime. Tokens are 32 random bytes; the server
keeps only their sha256, so a copy of the database enrolls nobody.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlite_utils import Database

# No 0/O, 1/I/L or U: a code is read aloud and typed on a phone without mix-ups.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LENGTH = 4, 4
CODE_HOURS = 24


class Device(msgspec.Struct, frozen=True):
    """Who a token speaks for: the device and the one shop it may reach."""

    id: str
    shop_id: int


class EnrollError(Exception):
    """An enrollment code that cannot be used; the message tells the person what to do."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _code_key(code: str) -> str:
    """Codes are typed by people: case and dashes do not matter."""
    return _digest(code.upper().replace("-", ""))


def issue_code(db: Database, shop_id: int, hours: float = CODE_HOURS) -> tuple[str, str]:
    """A new one-time code for a shop and when it expires; LookupError if there is no such shop."""
    if db.execute("SELECT 1 FROM shops WHERE id = ?", [shop_id]).fetchone() is None:
        raise LookupError("no such shop")
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH)) for _ in range(CODE_GROUPS))
    code = "-".join(groups)
    created = datetime.now(UTC)
    expires = (created + timedelta(hours=hours)).isoformat()
    db["enroll_codes"].insert(
        {"code_hash": _code_key(code), "shop_id": shop_id, "created_at": created.isoformat(), "expires_at": expires}
    )
    return code, expires


def enroll_url(base: str, code: str) -> str:
    """The address a phone opens (typed, or from a QR code) to enroll with a code filled in."""
    return f"{base.rstrip('/')}/zh/enroll?code={code}"


def enroll(db: Database, code: str, device_id: str, name: str, now: str) -> tuple[str, int, str]:
    """Spend a code: (token, shop id, shop name). Re-enrolling a device revokes its old tokens."""
    row = db.execute(
        "SELECT c.shop_id, s.name, c.expires_at, c.used_by FROM enroll_codes c JOIN shops s ON s.id = c.shop_id "
        "WHERE c.code_hash = ?",
        [_code_key(code)],
    ).fetchone()
    if row is None:
        raise EnrollError("code: unknown enrollment code; check it, or ask for a new one")
    shop_id, shop_name, expires_at, used_by = row
    # The same device may spend its code again (its first answer may have been lost on the way).
    if used_by is not None and used_by != device_id:
        raise EnrollError("code: this enrollment code has been used already; ask for a new one")
    if expires_at <= now:
        raise EnrollError(f"code: this enrollment code expired at {expires_at}; ask for a new one")
    db.execute("UPDATE enroll_codes SET used_at = ?, used_by = ? WHERE code_hash = ?", [now, device_id, _code_key(code)])
    db.execute(
        "INSERT INTO devices (id, shop_id, name, enrolled_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "shop_id = excluded.shop_id, name = excluded.name, enrolled_at = excluded.enrolled_at, revoked_at = NULL",
        [device_id, shop_id, name, now],
    )
    db.execute("UPDATE tokens SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL", [now, device_id])
    token = secrets.token_urlsafe(32)
    db["tokens"].insert(
        {"token_hash": _digest(token), "device_id": device_id, "shop_id": shop_id, "issued_at": now}
    )
    return token, shop_id, shop_name


def authenticate(db: Database, token: str) -> Device | None:
    """The device a live token belongs to, or None for an unknown or revoked one."""
    row = db.execute(
        "SELECT device_id, shop_id FROM tokens WHERE token_hash = ? AND revoked_at IS NULL", [_digest(token)]
    ).fetchone()
    return Device(id=row[0], shop_id=row[1]) if row else None


def revoke_device(db: Database, device_id: str, now: str) -> int:
    """Revoke a device and every token it holds; the number of live tokens revoked."""
    if db.execute("SELECT 1 FROM devices WHERE id = ?", [device_id]).fetchone() is None:
        raise LookupError("no such device")
    db.execute("UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now, device_id])
    return db.execute(
        "UPDATE tokens SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL", [now, device_id]
    ).rowcount


class BearerAuth(AbstractAuthenticationMiddleware):
    """Every API route not marked exclude_from_auth needs `Authorization: Bearer <token>`."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        with connection.app.state.store.read() as db:
            device = authenticate(db, token)
        if device is None:
            raise NotAuthorizedException(
                "unknown or revoked token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return AuthenticationResult(user=device, auth=token)
