"""Limits on attempts (enrollment codes tried, sign-ins): counters by key in fixed windows.

Kept in their own SQLite file beside the database, not in a process's memory, so that every app
server on the data folder counts the same attempts; and not in the main database, because a
flood of guesses must not queue for the write lock that pushes need (nor pay for their fsync: a
count lost in a crash only forgives a few attempts, so this file is written without syncing).
"""

import math
import sqlite3
import threading
import time
from pathlib import Path

from sync.errors import TooManyRequests


class Limits:
    """Counters of recent attempts by key, in windows of a fixed length."""

    def __init__(self, path: Path | str):
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = OFF", "busy_timeout = 5000"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, window INTEGER NOT NULL, count INTEGER NOT NULL, "
            "PRIMARY KEY (key, window))"
        )
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, seconds: int, what: str, now: float | None = None) -> None:
        """Count one attempt; TooManyRequests (naming `what` and when to retry) past `limit` in `seconds`."""
        now = time.time() if now is None else now
        window = int(now // seconds)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                count = self._conn.execute(
                    "INSERT INTO hits (key, window, count) VALUES (?, ?, 1) ON CONFLICT (key, window) "
                    "DO UPDATE SET count = count + 1 RETURNING count",
                    [key, window],
                ).fetchone()[0]
                self._conn.execute("DELETE FROM hits WHERE key = ? AND window < ?", [key, window])
            finally:
                self._conn.execute("COMMIT")
        if count > limit:
            raise _too_many(what, window, seconds, now)

    def check(self, key: str, limit: int, seconds: int, what: str, now: float | None = None) -> None:
        """TooManyRequests if `limit` attempts were counted already in this window; counts nothing
        (for limits on failures: check first, `hit` only when the attempt failed)."""
        now = time.time() if now is None else now
        window = int(now // seconds)
        with self._lock:
            row = self._conn.execute("SELECT count FROM hits WHERE key = ? AND window = ?", [key, window]).fetchone()
        if row and row[0] >= limit:
            raise _too_many(what, window, seconds, now)

    def close(self) -> None:
        self._conn.close()

    def __deepcopy__(self, memo) -> "Limits":
        return self  # a resource, shared rather than copied (see Store.__deepcopy__)


def _too_many(what: str, window: int, seconds: int, now: float) -> TooManyRequests:
    wait = max(1, math.ceil((window + 1) * seconds - now))
    return TooManyRequests(f"{what}: too many attempts; try again in {wait} s", headers={"Retry-After": str(wait)})
