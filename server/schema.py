"""The database schema: numbered migrations, applied at start-up, each in its own transaction.

The SQL here is the subset SQLite and PostgreSQL share where that costs nothing; what is
SQLite's own is marked so (WITHOUT ROWID, which PostgreSQL does not need: its tables are heaps).
A migration never edits an earlier one: an old database upgrades by running what it lacks.
"""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from sync.types import ChecklistCompleted, IncidentClosed, IncidentStep, event_decoder
from sync.views import Views, close_key, iso

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


@migrations()
def m007_hub(db: Database) -> None:
    """What a hub knows of its forwarding: the link's state, refused events, photos head office holds."""
    _run(db, HUB)


@migrations()
def m008_office_people(db: Database) -> None:
    """Head office's people (roles, regions, language) and the append-only audit log."""
    _run(db, OFFICE_PEOPLE)


@migrations()
def m009_office_lists(db: Database) -> None:
    """What the office's lists read by: runs by completion, open incidents, when a device was last seen."""
    _run(db, OFFICE_LISTS)


@migrations()
def m010_transactions(db: Database) -> None:
    """An incident's transaction (format 2): what the office filters and counts by, and the whole."""
    _run(db, TRANSACTIONS)


@migrations()
def m011_forward_waiting(db: Database) -> None:
    """Events a hub holds because head office does not accept their format yet."""
    _run(db, FORWARD_WAITING)


@migrations()
def m012_actions(db: Database) -> None:
    """Corrective actions: every checklist item answered "problem", kept at ingest, and what closes them."""
    _run(db, ACTIONS)
    # Fill from the log in Python (no JSON functions), shop by shop in the order the runs were
    # done, through the same code the ingest runs, so an old database holds what a new one would.
    by_shop: dict[int, list] = {}
    for shop_id, body in db.execute("SELECT shop_id, body FROM events WHERE type = 'checklist.completed'"):
        by_shop.setdefault(shop_id, []).append(event_decoder.decode(body))
    for shop_id, runs in by_shop.items():
        views = Views(shop_id)
        for event in sorted(runs, key=lambda e: (iso(e.at), e.id)):
            if type(event) is ChecklistCompleted:
                views.actions.add_run(event.id, event.payload, iso(event.at))
        views.actions.write(db, shop_id, held_runs=False)


@migrations()
def m013_alerts(db: Database) -> None:
    """Alert rules an admin edits, the alerts they raised, where alerts go, and each delivery's tries."""
    _run(db, ALERTS)


@migrations()
def m014_feed_tokens(db: Database) -> None:
    """Per-user tokens for the OData feed: only their hashes, revocable."""
    _run(db, FEED_TOKENS)


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

HUB = """
-- The hub's forwarder writes its state here after every round, so `posaid status` (another
-- process) can tell what waits, when it last worked, and what went wrong.
ALTER TABLE upstream ADD COLUMN local_shop INTEGER REFERENCES shops(id);
ALTER TABLE upstream ADD COLUMN link TEXT NOT NULL DEFAULT 'unknown' CHECK (link IN ('unknown', 'up', 'down'));
ALTER TABLE upstream ADD COLUMN last_attempt_at TEXT;
ALTER TABLE upstream ADD COLUMN last_error TEXT;
ALTER TABLE upstream ADD COLUMN last_error_at TEXT;
ALTER TABLE upstream ADD COLUMN register_at TEXT;
-- Events head office refused as they are: kept with the reason, never blocking those behind them.
CREATE TABLE forward_refusals (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    refused_at TEXT NOT NULL
);
-- Photos head office holds (it said so to a HEAD or a PUT): what is not here still waits.
CREATE TABLE forwarded_blobs (
    sha256 TEXT PRIMARY KEY,
    forwarded_at TEXT NOT NULL
);
-- Unfinished uploads kept for resuming: whose, how big, last touched. A device may keep only so
-- many bytes of them, and one untouched for days is given up (server/blobs_api.py).
CREATE TABLE partials (
    shop_id INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    device TEXT NOT NULL,
    size INTEGER NOT NULL,
    touched_at TEXT NOT NULL,
    PRIMARY KEY (shop_id, sha256)
);
CREATE INDEX partials_device ON partials(device);
CREATE INDEX partials_touched ON partials(touched_at);
"""

OFFICE_PEOPLE = """
-- Head-office users: an argon2id hash, never the password; a disabled user keeps their row (the
-- audit log names them) and can no longer sign in, and their sessions end at their next request.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'regional', 'viewer')),
    password_hash TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'zh' CHECK (lang IN ('zh', 'en')),
    created_at TEXT NOT NULL,
    disabled_at TEXT
);
-- Names are unique whatever their case (lower() folds ASCII only, in SQLite and PostgreSQL alike).
CREATE UNIQUE INDEX users_name ON users(lower(name));
-- The regions a regional user sees; other roles have none.
CREATE TABLE user_regions (
    user_id INTEGER NOT NULL REFERENCES users(id),
    region TEXT NOT NULL,
    PRIMARY KEY (user_id, region)
);
-- What people did: sign-ins (failed ones too), people and shop changes, codes issued, devices
-- revoked, exports downloaded. id is the order of writing, and the list pages by it.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT ''
);
-- Append-only, enforced by the database (SQLite's trigger syntax; PostgreSQL would use a rule or
-- a trigger function, or simply no UPDATE/DELETE grant).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

OFFICE_LISTS = """
-- The office lists checklist runs newest first across shops (the primary key leads with the shop).
CREATE INDEX checklist_runs_completed ON checklist_runs(completed_at);
-- "What needs attention": open incidents are few among many closed ones, so a partial index
-- (SQLite and PostgreSQL both have them) finds them without walking every incident.
CREATE INDEX incidents_open ON incidents(opened_at) WHERE status = 'open';
-- When a device last called the API (set at most every few minutes; see writes.device_seen).
ALTER TABLE devices ADD COLUMN last_seen_at TEXT;
"""

TRANSACTIONS = """
-- The transaction that decided (the latest told, by the device's clock, then the later-made):
-- its kind, entry mode, whether the customer was charged and the amount for the office's filters
-- and bands, and the whole as canonical JSON for the detail page and the exports.
ALTER TABLE incidents ADD COLUMN tx_kind TEXT;
ALTER TABLE incidents ADD COLUMN tx_entry TEXT;
ALTER TABLE incidents ADD COLUMN tx_charged TEXT;
ALTER TABLE incidents ADD COLUMN tx_amount REAL;
ALTER TABLE incidents ADD COLUMN tx_currency TEXT;
ALTER TABLE incidents ADD COLUMN tx TEXT;
ALTER TABLE incidents ADD COLUMN tx_at TEXT;
ALTER TABLE incidents ADD COLUMN tx_by TEXT;
"""

FORWARD_WAITING = """
-- Held, not refused and not retried in a loop: sent once head office's pull says it takes the format.
CREATE TABLE forward_waiting (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    v INTEGER NOT NULL,
    since TEXT NOT NULL
);
"""

ACTIONS = """
-- A corrective action: a checklist item answered "problem" (one row per run and item), open until a
-- later run of the shop finds the same item ok, a maintenance entry of the item's kind is logged
-- after it, or someone in the office closes it with a note. opened_at is the run's time on the
-- phone, so an action synced late is as old as the problem, not as its arrival.
CREATE TABLE actions (
    shop_id INTEGER NOT NULL,
    run TEXT NOT NULL,
    item TEXT NOT NULL,
    checklist TEXT NOT NULL,
    period TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    note TEXT NOT NULL,
    photo TEXT,
    state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    closed_at TEXT,
    closed_kind TEXT CHECK (closed_kind IN ('run', 'maintenance', 'office')),
    closed_by TEXT,
    close_note TEXT,
    PRIMARY KEY (shop_id, run, item)
);
-- Open actions are few among many closed ones: a partial index finds a shop's (SQLite and PostgreSQL).
CREATE INDEX actions_open ON actions(shop_id, checklist, item) WHERE state = 'open';
CREATE INDEX actions_opened ON actions(opened_at);
-- Which maintenance kind closes which item (content/checklists: an item's `maintenance`), written
-- from the content at start-up, so the ingest (which knows no content) can close by it.
CREATE TABLE item_maintenance (
    checklist TEXT NOT NULL,
    item TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (checklist, item)
);
-- A late problem looks for a maintenance entry of its kind done after it, in its shop.
CREATE INDEX maintenance_kind ON maintenance(shop_id, kind, done_at);
"""

ALERTS = """
-- Rules: what raises an alert. kind says which fields matter (server/alerts.py).
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('shop_code', 'terminal', 'group_code', 'checklist_missed')),
    code TEXT,
    count INTEGER NOT NULL CHECK (count >= 1),
    minutes INTEGER NOT NULL CHECK (minutes >= 1),
    grouping TEXT CHECK (grouping IN ('acquirer', 'region')),
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
INSERT INTO alert_rules (kind, code, count, minutes, grouping, created_at, changed_at) VALUES
    ('shop_code', 'T2', 3, 60, NULL, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'),
    ('terminal', NULL, 5, 10080, NULL, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'),
    ('group_code', NULL, 3, 60, 'acquirer', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'),
    ('checklist_missed', NULL, 2, 1, NULL, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');
-- An alert: one per episode (key), widened while more records of it come. first_at and last_at are
-- when the records happened (the phones' clocks); raised_at when this server noticed; late when
-- what completed it reached the server long after it happened.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    rule_id INTEGER NOT NULL REFERENCES alert_rules(id),
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    shop_id INTEGER,
    region TEXT,
    subject TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    late INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '{}',
    seen_at TEXT,
    seen_by TEXT
);
CREATE INDEX alerts_raised ON alerts(raised_at);
-- The streak key of an episode still growing: (rule, scope key) -> the alert to widen.
CREATE INDEX alerts_episode ON alerts(rule_id, subject, last_at);
-- Where alerts go: a webhook (a URL and the secret its signature is made with) or an email address.
CREATE TABLE alert_targets (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('webhook', 'email')),
    address TEXT NOT NULL,
    secret TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
-- One delivery per alert and target, claimed by one worker at a time (claimed_until), so two app
-- servers on one database deliver once; retried with backoff until done or given up.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    target_id INTEGER NOT NULL REFERENCES alert_targets(id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    tries INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    claimed_by TEXT,
    claimed_until TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT,
    UNIQUE (alert_id, target_id)
);
CREATE INDEX deliveries_due ON deliveries(next_at) WHERE state = 'pending';
CREATE INDEX deliveries_target ON deliveries(target_id, id);
-- Each try's answer: the HTTP status or SMTP reply, and what came back (cut short).
CREATE TABLE delivery_tries (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
    at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    status TEXT NOT NULL,
    answer TEXT NOT NULL
);
CREATE INDEX delivery_tries_delivery ON delivery_tries(delivery_id);
-- How far the rules have read the log (events.seq), and when the periodic rules last ran.
CREATE TABLE alert_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    periodic_at TEXT
);
INSERT INTO alert_cursor (id, seq) SELECT 1, coalesce(max(seq), 0) FROM events;
"""

FEED_TOKENS = """
-- A head-office user's tokens for the OData feed (Excel, Power BI): shown once, kept as sha256.
CREATE TABLE feed_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX feed_tokens_user ON feed_tokens(user_id);
"""
