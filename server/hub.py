"""The hub's side of forwarding: its log as the forwarder reads it, and enrolling upstream.

sync/forward.py speaks the protocol to head office; this module gives it the hub's database
through the store (queries to read, writes to move the cursor), so the forwarder holds no SQL.
"""

from server import queries, writes
from server.store import Store, now
from sync import forward


class HubLog:
    """The hub's event log and upstream cursor, for `sync.forward.forward`."""

    def __init__(self, store: Store):
        self.store = store

    def upstream(self) -> tuple[str, str, int] | None:
        with self.store.read() as db:
            found = queries.upstream(db)
        return (found.url, found.token, found.cursor) if found else None

    def events_after(self, cursor: int, limit: int) -> list[tuple[int, str]]:
        with self.store.read() as db:
            return queries.events_after(db, cursor, limit)

    def remaining(self, cursor: int) -> int:
        with self.store.read() as db:
            return queries.events_count_after(db, cursor)

    def advance(self, cursor: int) -> None:
        with self.store.write() as db:
            writes.advance_upstream(db, cursor, now())


def enroll_upstream(store: Store, url: str, code: str, name: str):
    """Enroll this hub with head office at url with a one-time code; forwarding starts from the first event."""
    answer = forward.enroll(url, code, name)
    with store.write() as db:
        writes.set_upstream(db, url, answer.device, answer.token, now())
    return answer
