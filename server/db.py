"""The database: opened in WAL mode, migrated at start-up, written through one place."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("posaid")


@migrations()
def m001_shops(db: Database) -> None:
    """Shops, their terminals and staff: what a device's pull returns and the dashboard groups by."""
    db["shops"].create({"id": int, "name": str, "created_at": str}, pk="id", not_null={"name"})
    db["terminals"].create(
        {"id": int, "shop_id": int, "name": str, "model": str, "serial": str},
        pk="id",
        foreign_keys=[("shop_id", "shops", "id")],
        not_null={"shop_id", "name"},
    )
    db["staff"].create(
        {"id": int, "shop_id": int, "name": str},
        pk="id",
        foreign_keys=[("shop_id", "shops", "id")],
        not_null={"shop_id", "name"},
    )


@migrations()
def m002_sync(db: Database) -> None:
    """Devices and their tokens, the event log, blobs, and the read views kept from the events."""
    # One statement at a time: executescript() would COMMIT the migration's transaction first.
    for statement in SYNC_SCHEMA.split(";\n"):
        if statement.strip():
            db.execute(statement)


@migrations()
def m003_upstream(db: Database) -> None:
    """Where a hub forwards to: head office's address, the hub's token there, and how far it got."""
    # The token is a credential this server presents upstream, so it is kept as issued (unlike
    # the tokens it checks, of which it keeps only hashes); the data folder must stay private.
    db.execute(
        "CREATE TABLE upstream (id INTEGER PRIMARY KEY CHECK (id = 1), url TEXT NOT NULL, device TEXT NOT NULL, "
        "token TEXT NOT NULL, cursor INTEGER NOT NULL DEFAULT 0, enrolled_at TEXT NOT NULL, last_forward_at TEXT)"
    )


SYNC_SCHEMA = """
-- One-time enrollment codes; only the sha256 of the (high-entropy) code is kept.
CREATE TABLE enroll_codes (
    code_hash TEXT PRIMARY KEY,
    shop_id INTEGER NOT NULL REFERENCES shops(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_by TEXT
);
-- A device names itself (a UUID) at first start; enrollment binds it to one shop.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    shop_id INTEGER NOT NULL REFERENCES shops(id),
    name TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX devices_shop ON devices(shop_id);
-- Bearer tokens: only the sha256 is kept; a token is dead once revoked_at is set.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id),
    shop_id INTEGER NOT NULL REFERENCES shops(id),
    issued_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX tokens_device ON tokens(device_id);
-- The log: every event as stored, in the server's own receive order (seq, the forwarder's
-- cursor). body is the canonical JSON of the event, hash its sha256.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    shop_id INTEGER NOT NULL REFERENCES shops(id),
    device TEXT NOT NULL,
    pushed_by TEXT NOT NULL,
    at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    incident TEXT,
    photos INTEGER NOT NULL,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX events_device ON events(shop_id, device, seq);
CREATE INDEX events_incident ON events(incident);
-- The same event id pushed with other content: the stored one is kept, the other noted here.
CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    shop_id INTEGER NOT NULL,
    pushed_by TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (event_id, hash)
);
-- Blobs a shop has sent; the file is data/blobs/<sha[:2]>/<sha[2:]>, shared by content.
CREATE TABLE blobs (
    sha256 TEXT NOT NULL,
    shop_id INTEGER NOT NULL REFERENCES shops(id),
    size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (sha256, shop_id)
);
-- Read views, kept from the events in the same transaction. Derived data: no foreign keys (the
-- events they come from have them). Tables without secondary indexes are WITHOUT ROWID, clustered
-- on how they are read, so a batch updates as few B-trees as it can; incidents keeps its rowid,
-- since each of its indexes would otherwise repeat the 36-character id.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    shop_id INTEGER NOT NULL,
    device TEXT NOT NULL,
    code TEXT NOT NULL,
    terminal TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'escalated')),
    closed_at TEXT,
    resolved_at_step TEXT,
    escalated_at_step TEXT,
    support TEXT,
    steps_count INTEGER NOT NULL,
    photos_count INTEGER NOT NULL,
    last_event_at TEXT NOT NULL
);
CREATE INDEX incidents_shop ON incidents(shop_id, opened_at);
CREATE INDEX incidents_code ON incidents(code, opened_at);
CREATE INDEX incidents_opened ON incidents(opened_at);
-- One row per incident.step event (its id is unique in events already), kept in step order.
-- The steps tried are events already: a view reads them from the log (through the incident
-- index) instead of a second copy written with every push.
CREATE VIEW incident_steps AS
SELECT incident, at, id, shop_id,
       json_extract(body, '$.payload.flow') AS flow,
       json_extract(body, '$.payload.step') AS step,
       json_extract(body, '$.payload.answer') AS answer,
       json_extract(body, '$.payload.note') AS note,
       recorded_by, photos AS photos_count
FROM events WHERE type = 'incident.step';
CREATE TABLE checklist_runs (
    shop_id INTEGER NOT NULL,
    checklist TEXT NOT NULL,
    period TEXT NOT NULL,
    id TEXT NOT NULL,
    device TEXT NOT NULL,
    signed_by TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    items_count INTEGER NOT NULL,
    problems_count INTEGER NOT NULL,
    photos_count INTEGER NOT NULL,
    PRIMARY KEY (shop_id, checklist, period, id)
) WITHOUT ROWID;
CREATE TABLE maintenance (
    shop_id INTEGER NOT NULL,
    terminal TEXT NOT NULL,
    done_at TEXT NOT NULL,
    id TEXT NOT NULL,
    device TEXT NOT NULL,
    kind TEXT NOT NULL,
    fields TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    photos_count INTEGER NOT NULL,
    PRIMARY KEY (shop_id, terminal, done_at, id)
) WITHOUT ROWID;
CREATE INDEX maintenance_done ON maintenance(done_at);
"""


def now() -> str:
    """The time to record, as UTC text that sorts (the form every *_at column holds)."""
    return datetime.now(UTC).isoformat()


PRAGMAS = (
    "busy_timeout = 5000",
    "journal_mode = WAL",
    "synchronous = NORMAL",
    "foreign_keys = ON",
    # A push writes the log and the views: a 16 MB page cache keeps their hot index pages, and
    # checkpointing every 16 MB of WAL instead of 4 MB means a quarter of the fsyncs.
    "cache_size = -16384",
    "wal_autocheckpoint = 4096",
)


def connect(path: Path | str) -> Database:
    """Open (or create) the database file with the pragmas every connection needs."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    return Database(conn)


class Store:
    """The one database connection and the one write path: every write goes through `write()`."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.db = connect(self.path)
        self._lock = threading.RLock()
        with self._lock:
            migrations.apply(self.db)

    @contextmanager
    def write(self) -> Iterator[Database]:
        """A transaction (BEGIN IMMEDIATE … COMMIT) that no other write interleaves with."""
        with self._lock:
            if self.db.conn.in_transaction:  # nested: a savepoint inside the outer write
                with self.db.atomic():
                    yield self.db
                return
            # IMMEDIATE takes the write lock up front, so another process (the CLI beside a
            # running server) waits on busy_timeout instead of failing half-way.
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.conn.rollback()
                raise
            self.db.conn.commit()

    @contextmanager
    def read(self) -> Iterator[Database]:
        """The connection for reads; held so a read never sees a write half-way."""
        with self._lock:
            yield self.db

    def close(self) -> None:
        self.db.close()
