"""Limits on attempts (enrollment codes tried, sign-ins): counters by key in fixed windows.

Kept in side tables (server.store.side_tables), not in a process's memory, so that every app
server counts the same attempts; and apart from the main write path, because a flood of guesses
must not queue for the write lock that pushes need (nor pay for their fsync: a count lost in a
crash only forgives a few attempts). ("window" is quoted: PostgreSQL reserves the word.)
"""

import math
import time

from sync.errors import TooManyRequests


class Limits:
    """Counters of recent attempts by key, in windows of a fixed length."""

    def __init__(self, side):
        self.side = side
        side.run('CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, "window" INTEGER NOT NULL, '
                 'count INTEGER NOT NULL, PRIMARY KEY (key, "window"))')

    def hit(self, key: str, limit: int, seconds: int, what: str, now: float | None = None) -> None:
        """Count one attempt; TooManyRequests (naming `what` and when to retry) past `limit` in `seconds`."""
        now = time.time() if now is None else now
        window = int(now // seconds)
        # One statement counts and answers (atomic on both engines); older windows go after.
        count = self.side.run('INSERT INTO hits (key, "window", count) VALUES (?, ?, 1) ON CONFLICT (key, "window") '
                              "DO UPDATE SET count = hits.count + 1 RETURNING count", [key, window])[0][0]
        self.side.run('DELETE FROM hits WHERE key = ? AND "window" < ?', [key, window])
        if count > limit:
            raise _too_many(what, window, seconds, now)

    def check(self, key: str, limit: int, seconds: int, what: str, now: float | None = None) -> None:
        """TooManyRequests if `limit` attempts were counted already in this window; counts nothing
        (for limits on failures: check first, `hit` only when the attempt failed)."""
        now = time.time() if now is None else now
        window = int(now // seconds)
        rows = self.side.run('SELECT count FROM hits WHERE key = ? AND "window" = ?', [key, window])
        if rows and rows[0][0] >= limit:
            raise _too_many(what, window, seconds, now)

    def close(self) -> None:
        self.side.close()

    def __deepcopy__(self, memo) -> "Limits":
        return self  # a resource, shared rather than copied (see Store.__deepcopy__)


def _too_many(what: str, window: int, seconds: int, now: float) -> TooManyRequests:
    wait = max(1, math.ceil((window + 1) * seconds - now))
    return TooManyRequests(f"{what}: too many attempts; try again in {wait} s", headers={"Retry-After": str(wait)})
