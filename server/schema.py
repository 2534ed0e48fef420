"""The database schema: numbered migrations, applied at start-up, each in its own transaction.

The SQL here is the subset SQLite and PostgreSQL share where that costs nothing; what is
SQLite's own is marked so (WITHOUT ROWID, which PostgreSQL does not need: its tables are heaps).
A migration never edits an earlier one: an old database upgrades by running what it lacks.
"""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from sync.types import IncidentClosed, IncidentStep, event_decoder
from sync.views import close_key, iso

migrations = Migrations("posaid")


def _run(db: Database, script: str) -> None:
    # One statement at a time: executescript() would COMMIT the migration's transaction first.
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


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
    _run(db, SYNC_SCHEMA)


@migrations()
def m003_upstream(db: Database) -> None:
    """Where a hub forwards to: head office's address, the hub's token there, and how far it got."""
    # The token is a credential this server presents upstream, so it is kept as issued (unlike
    # the tokens it checks, of which it keeps only hashes); the data folder must stay private.
    db.execute(
        "CREATE TABLE upstream (id INTEGER PRIMARY KEY CHECK (id = 1), url TEXT NOT NULL, device TEXT NOT NULL, "
        "token TEXT NOT NULL, cursor INTEGER NOT NULL DEFAULT 0, enrolled_at TEXT NOT NULL, last_forward_at TEXT)"
    )


@migrations()
def m004_steps_closes_uploads(db: Database) -> None:
    """Steps as a table written at ingest, the close that decided each incident, uploads in progress."""
    _run(db, STEPS_CLOSES_UPLOADS)
    # Fill the new columns from the log, in Python, so the migration needs no JSON functions.
    steps, closes = [], {}
    for (body,) in db.execute("SELECT body FROM events WHERE type IN ('incident.step', 'incident.closed')"):
        event = event_decoder.decode(body)
        if type(event) is IncidentStep:
            p = event.payload
            steps.append((p.incident, iso(event.at), event.id, event.shop, p.flow, p.step, p.answer, p.note,
                          event.recorded_by, len(event.blobs)))
        elif type(event) is IncidentClosed:
            incident, key = event.payload.incident, close_key(iso(event.at), event.id)
            if incident not in closes or key > closes[incident][0]:
                closes[incident] = (key, event)
    db.conn.executemany(
        "INSERT INTO incident_steps (incident, at, id, shop_id, flow, step, answer, note, recorded_by, photos_count) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        steps,
    )
    for incident, ((at, close_id), event) in closes.items():
        p = event.payload
        db.execute(
            "UPDATE incidents SET status = ?, closed_at = ?, closed_by = ?, resolved_at_step = ?, "
            "escalated_at_step = ?, support = ? WHERE id = ?",
            [p.outcome, at, close_id, p.step if p.outcome == "resolved" else None,
             p.step if p.outcome == "escalated" else None, p.support, incident],
        )


@migrations()
def m005_shop_scoped_ids(db: Database) -> None:
    """Event ids unique within a shop, devices and codes of a kind, conflicts counted per device."""
    _run(db, SHOP_SCOPED_IDS)


@migrations()
def m006_register(db: Database) -> None:
    """The shop register head office keeps: a shop's region, address and support lines, a terminal's ids."""
    _run(db, REGISTER)


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
-- events they come from have them). Tables without secondary indexes are WITHOUT ROWID (SQLite's
-- own), clustered on how they are read, so a batch updates as few B-trees as it can; incidents
-- keeps its rowid, since each of its indexes would otherwise repeat the 36-character id.
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

STEPS_CLOSES_UPLOADS = """
-- The steps tried, one row per incident.step event, written at ingest with plain columns (the
-- view it replaces read them out of the JSON bodies, which only SQLite's json_extract could).
DROP VIEW incident_steps;
CREATE TABLE incident_steps (
    incident TEXT NOT NULL,
    at TEXT NOT NULL,
    id TEXT NOT NULL,
    shop_id INTEGER NOT NULL,
    flow TEXT NOT NULL,
    step TEXT NOT NULL,
    answer TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    photos_count INTEGER NOT NULL,
    PRIMARY KEY (incident, at, id)
) WITHOUT ROWID;
-- Which close decided the incident: of two closes at the same instant, the later-made (greater
-- id) wins, on the server as on the phone.
ALTER TABLE incidents ADD COLUMN closed_by TEXT;
-- Uploads in progress: one per blob and shop at a time. Kept here, not in a process's memory,
-- so that two app servers agree on who is uploading what; touched_at says whether the holder is
-- still sending.
CREATE TABLE uploads (
    shop_id INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    holder TEXT NOT NULL,
    started_at TEXT NOT NULL,
    touched_at TEXT NOT NULL,
    PRIMARY KEY (shop_id, sha256)
);
"""

SHOP_SCOPED_IDS = """
-- An event id is the device's name for its record: unique within the shop, so one shop can
-- neither pre-empt nor learn of another shop's ids. SQLite cannot drop a UNIQUE constraint:
-- the table is built anew and the rows copied (seq, the forwarders' cursor, kept as it was).
CREATE TABLE events_scoped (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
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
    received_at TEXT NOT NULL,
    UNIQUE (shop_id, id)
);
INSERT INTO events_scoped SELECT seq, id, type, shop_id, device, pushed_by, at, recorded_by, incident, photos, body,
    hash, received_at FROM events;
DROP TABLE events;
ALTER TABLE events_scoped RENAME TO events;
CREATE INDEX events_device ON events(shop_id, device, seq);
CREATE INDEX events_incident ON events(incident);
CREATE TABLE incidents_scoped (
    id TEXT NOT NULL,
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
    last_event_at TEXT NOT NULL,
    closed_by TEXT,
    UNIQUE (shop_id, id)
);
INSERT INTO incidents_scoped SELECT id, shop_id, device, code, terminal, opened_at, note, recorded_by, status,
    closed_at, resolved_at_step, escalated_at_step, support, steps_count, photos_count, last_event_at, closed_by
    FROM incidents;
DROP TABLE incidents;
ALTER TABLE incidents_scoped RENAME TO incidents;
CREATE INDEX incidents_shop ON incidents(shop_id, opened_at);
CREATE INDEX incidents_code ON incidents(code, opened_at);
CREATE INDEX incidents_opened ON incidents(opened_at);
CREATE TABLE incident_steps_scoped (
    shop_id INTEGER NOT NULL,
    incident TEXT NOT NULL,
    at TEXT NOT NULL,
    id TEXT NOT NULL,
    flow TEXT NOT NULL,
    step TEXT NOT NULL,
    answer TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    photos_count INTEGER NOT NULL,
    PRIMARY KEY (shop_id, incident, at, id)
) WITHOUT ROWID;
INSERT INTO incident_steps_scoped SELECT shop_id, incident, at, id, flow, step, answer, note, recorded_by,
    photos_count FROM incident_steps;
DROP TABLE incident_steps;
ALTER TABLE incident_steps_scoped RENAME TO incident_steps;
-- A hub pushes for the phones of its shop; a phone only for itself. The code says which it enrolls.
ALTER TABLE enroll_codes ADD COLUMN kind TEXT NOT NULL DEFAULT 'phone' CHECK (kind IN ('phone', 'hub'));
ALTER TABLE devices ADD COLUMN kind TEXT NOT NULL DEFAULT 'phone' CHECK (kind IN ('phone', 'hub'));
-- Conflicts are kept for head office to look into, per shop, up to a cap per device (sync/ingest.py).
CREATE TABLE conflicts_scoped (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    shop_id INTEGER NOT NULL,
    pushed_by TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (shop_id, event_id, hash)
);
INSERT INTO conflicts_scoped SELECT id, event_id, shop_id, pushed_by, hash, body, received_at FROM conflicts;
DROP TABLE conflicts;
ALTER TABLE conflicts_scoped RENAME TO conflicts;
CREATE INDEX conflicts_pusher ON conflicts(shop_id, pushed_by);
"""

REGISTER = """
ALTER TABLE shops ADD COLUMN region TEXT;
ALTER TABLE shops ADD COLUMN address TEXT;
ALTER TABLE shops ADD COLUMN acquirer_phone TEXT;
ALTER TABLE shops ADD COLUMN vendor_phone TEXT;
CREATE INDEX shops_region ON shops(region);
ALTER TABLE terminals ADD COLUMN tid TEXT;
ALTER TABLE terminals ADD COLUMN mid TEXT;
ALTER TABLE terminals ADD COLUMN acquirer TEXT;
ALTER TABLE terminals ADD COLUMN software_version TEXT;
CREATE INDEX terminals_shop ON terminals(shop_id);
CREATE INDEX staff_shop ON staff(shop_id);
"""
