"""Head office's sessions: Litestar's server-side sessions, kept in a side table.

The table (server.store.side_tables: data/sessions.db with SQLite, the main database with
PostgreSQL) is shared for the reasons server/limits.py gives for its counters: every app server
sees the same sessions (no process-local state), and signing in or out never queues for the
main database's write lock. A lost write only signs someone out, so it is written without syncing.

Litestar's backend keeps whatever session id the browser sends. Ours does not: an id the store
does not hold is replaced by a fresh one (so nobody can plant an id and wait for its owner to sign
in), and a session cleared by the handler (sign-in, sign-out) is deleted and the next one gets a
new id. The store is asynchronous to Litestar and runs its database work in worker threads: nothing
touches the database on the event loop.
"""

import time
from datetime import timedelta

import anyio
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items
from litestar.utils.scope.state import ScopeState

STORE_NAME = "office_sessions"
_LOADED = "office_session_loaded"  # the session's bytes as loaded, in the request's state


def _seconds(value: int | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SessionStore(Store):
    """A Litestar `Store` over one side table: key, value, and when it expires (epoch seconds)."""

    def __init__(self, side):
        self.side = side
        side.run("CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL)")
        side.run("CREATE INDEX IF NOT EXISTS sessions_expires ON sessions(expires)")

    def _run(self, sql: str, params=()) -> list:
        return self.side.run(sql, params)

    async def _call(self, fn, *args):
        return await anyio.to_thread.run_sync(fn, *args)

    def _set(self, key: str, value: bytes, expires_in: float | None) -> None:
        now = time.time()
        self._run("INSERT INTO sessions (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE "
                  "SET value = excluded.value, expires = excluded.expires",
                  [key, value, now + expires_in if expires_in is not None else None])
        self._run("DELETE FROM sessions WHERE expires <= ?", [now])  # sweep: the index finds them

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await self._call(self._set, key, value.encode() if isinstance(value, str) else value, _seconds(expires_in))

    def _get(self, key: str, renew_for: float | None) -> bytes | None:
        now = time.time()
        rows = self._run("SELECT value, expires FROM sessions WHERE key = ?", [key])
        if not rows or (rows[0][1] is not None and rows[0][1] <= now):
            return None
        if renew_for is not None and rows[0][1] is not None:
            self._run("UPDATE sessions SET expires = ? WHERE key = ?", [now + renew_for, key])
        return rows[0][0]

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self._call(self._get, key, _seconds(renew_for))

    async def delete(self, key: str) -> None:
        await self._call(self._run, "DELETE FROM sessions WHERE key = ?", [key])

    async def delete_all(self) -> None:
        await self._call(self._run, "DELETE FROM sessions")

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    def _expires_in(self, key: str) -> int | None:
        rows = self._run("SELECT expires FROM sessions WHERE key = ? AND (expires IS NULL OR expires > ?)",
                         [key, time.time()])
        return int(rows[0][0] - time.time()) if rows and rows[0][0] is not None else None

    async def expires_in(self, key: str) -> int | None:
        return await self._call(self._expires_in, key)

    def close(self) -> None:
        self.side.close()


class RotatingSessionBackend(ServerSideSessionBackend):
    """Server-side sessions that never adopt an id the browser made up, and renew the id when the
    handler clears the session (as signing in and out do)."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict:
        session_id = connection.cookies.get(self.config.key)
        if session_id:
            store = self.config.get_store_from_app(connection.scope["app"])
            data = await self.get(session_id, store=store)
            if data is not None:
                # The id is known: keep it (the middleware reads it back through get_session_id).
                ScopeState.from_scope(connection.scope).session_id = session_id
                connection.state[_LOADED] = data
                return self.deserialize_data(data)
        return {}

    def get_session_id(self, connection: ASGIConnection) -> str:
        return connection.get_session_id() or self.generate_session_id()

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
                               ) -> None:
        store = self.config.get_store_from_app(connection.scope["app"])
        sent = connection.cookies.get(self.config.key)
        session_id = self.get_session_id(connection)
        if sent and sent != session_id:
            await self.delete(sent, store=store)  # cleared (signed in or out), or unknown: that id is over
        headers = MutableScopeHeaders.from_message(message)
        cookie = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        if scope_session is Empty or not scope_session:
            if sent:
                headers.add("Set-Cookie", Cookie(value="null", key=self.config.key, expires=0, **cookie)
                            .to_header(header=""))
            return  # nobody signed in: nothing to keep, and no cookie for a visitor who had none
        data = self.serialize_data(scope_session, connection.scope)
        if session_id == sent and data == connection.state.get(_LOADED):
            return  # unchanged: no write, and the cookie the browser holds stays as it is
        await self.set(session_id=session_id, data=data, store=store)
        headers.add("Set-Cookie", Cookie(value=session_id, key=self.config.key, **cookie).to_header(header=""))


class OfficeSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def session_config(secure: bool, hours: int = 12) -> OfficeSessionConfig:
    """The office's session cookie: HttpOnly, SameSite=Lax, Secure behind TLS, for a working day."""
    return OfficeSessionConfig(store=STORE_NAME, key="posaid_office", path="/office", httponly=True,
                               samesite="lax", secure=secure, max_age=hours * 3600)
