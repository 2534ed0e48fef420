"""Head-office people: argon2id passwords, adding and disabling users, checking a sign-in.

Used by the people page and by `posaid users`; the rules live here once. A hash made with older
parameters is replaced at the next successful sign-in (argon2's check_needs_rehash), so raising
the cost reaches every account without anyone choosing a new password.
"""

from typing import Annotated, Literal

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from server import queries, writes
from sync.errors import BadRequest, Conflict, NotFound
from sync.pan import mask_pans
from sync.types import Name

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
ROLES = ("admin", "regional", "viewer")
MIN_PASSWORD = 10
Role = Literal["admin", "regional", "viewer"]
Password = Annotated[str, msgspec.Meta(min_length=MIN_PASSWORD, max_length=256)]
_unknown_hash: str | None = None  # verified against when a name is unknown, so both take as long


class NewUser(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A user as the people page and `posaid users add` give one."""

    name: Name
    role: Role
    password: Password
    regions: tuple[Name, ...] = ()


def new_user(name: str, role: str, password: str, regions=()) -> NewUser:
    """Checked and cleaned (trimmed, card numbers masked); BadRequest naming the field at fault."""
    try:
        user = msgspec.convert({"name": mask_pans(name.strip()), "role": role, "password": password,
                                "regions": tuple(mask_pans(r.strip()) for r in regions if r.strip())}, NewUser)
    except msgspec.ValidationError as exc:
        field = str(exc).rpartition("$.")[2].rstrip("`").split("[")[0] or "user"
        hint = f"at least {MIN_PASSWORD} characters" if field == "password" else str(exc).partition(" - at")[0]
        raise BadRequest(f"{field}: {hint}") from None
    if user.role == "regional" and not user.regions:
        raise BadRequest("region: a regional user needs at least one region")
    if user.role != "regional" and user.regions:
        raise BadRequest("region: only a regional user has regions; admins and viewers see every shop")
    return user


def add_user(db: Database, user: NewUser, actor: str, at: str, address: str = "", hasher=HASHER) -> int:
    """Add a user (in the caller's write); Conflict if the name is taken, whatever its case."""
    if queries.account(db, user.name) is not None:
        raise Conflict(f"name: a user called {user.name!r} exists already")
    user_id = writes.add_user(db, user.name, user.role, hasher.hash(user.password), user.regions, at)
    detail = user.role + (f" ({', '.join(user.regions)})" if user.regions else "")
    writes.audit(db, at, actor, "user.added", user.name, detail, address)
    return user_id


def disable_user(db: Database, name: str, actor: str, at: str, address: str = "") -> None:
    """Disable a user: they cannot sign in, and their sessions end at their next request."""
    found = queries.account(db, name)
    if found is None:
        raise NotFound(f"NAME {name}: no such user (see `posaid users list`)")
    if writes.disable_user(db, found.id, at):
        writes.audit(db, at, actor, "user.disabled", found.name, "", address)


def check_password(db: Database, name: str, password: str, hasher=HASHER) -> queries.Account | None:
    """The account if the name and password match an enabled user, else None (the same work either way)."""
    global _unknown_hash
    found = queries.account(db, name)
    if found is None or found.disabled_at is not None:
        _unknown_hash = _unknown_hash or hasher.hash("posaid: nobody has this password")
        _verify(hasher, _unknown_hash, password)
        return None
    return found if _verify(hasher, found.password_hash, password) else None


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, hasher=HASHER) -> bool:
    return hasher.check_needs_rehash(password_hash)


def reset_demo_user(db: Database, name: str, role: str, password: str, at: str) -> None:
    """The demo's user (`posaid serve --demo`), enabled, with this password: added once, reset each start."""
    found = queries.account(db, name)
    if found is None:
        add_user(db, new_user(name, role, password), "demo", at)
        return
    writes.set_password_hash(db, found.id, HASHER.hash(password))
    writes.enable_user(db, found.id)
