"""Every read the server makes outside the ingest: plain SQL functions that take a connection and
the caller's scope (a shop, a device) and return named rows.

Pages, the API, the CLI and the forwarder all read through here, so a filter means the same
everywhere and the SQL stays in one place. Writes live in server/writes.py.
"""

import msgspec
from sqlite_utils import Database

from server import dialect
from sync.types import RunInfo, ShopInfo, TerminalInfo


class Shop(msgspec.Struct, frozen=True):
    id: int
    name: str


class ShopListed(msgspec.Struct, frozen=True):
    id: int
    name: str
    devices: int  # enrolled and not revoked


class DeviceListed(msgspec.Struct, frozen=True):
    id: str
    shop_id: int
    name: str
    enrolled_at: str
    revoked_at: str | None


class EnrollCode(msgspec.Struct, frozen=True):
    shop_id: int
    shop_name: str
    expires_at: str
    used_by: str | None
    kind: str  # "phone" or "hub": what the code enrolls


class EnrolledDevice(msgspec.Struct, frozen=True):
    shop_id: int
    revoked_at: str | None


class TokenHolder(msgspec.Struct, frozen=True):
    """Who a live token speaks for: the device, the one shop it may reach, and whether it is a hub."""

    id: str
    shop_id: int
    hub: bool = False
    last_seen_at: str | None = None


class Upstream(msgspec.Struct, frozen=True):
    """Head office as a hub knows it: where to forward, with what token, and how far it got."""

    url: str
    device: str
    token: str
    cursor: int
    local_shop: int | None = None  # the hub's shop that head office's register is brought down into


class HubStatus(msgspec.Struct, frozen=True):
    """What `posaid status` tells of a hub's forwarding."""

    url: str
    link: str  # "up", "down" or "unknown"
    cursor: int
    events_waiting: int
    photos_waiting: int
    bytes_waiting: int
    last_forward_at: str | None
    last_attempt_at: str | None
    last_error: str | None
    last_error_at: str | None
    refused: list[tuple[str, str, str]]  # (event id, reason, when), newest first
    held_back: int  # events whose format head office does not accept yet


# ---- the shop register --------------------------------------------------------------------------


def shop(db: Database, shop_id: int) -> Shop | None:
    row = db.execute("SELECT id, name FROM shops WHERE id = ?", [shop_id]).fetchone()
    return Shop(*row) if row else None


def shop_named(db: Database, name: str) -> Shop | None:
    row = db.execute("SELECT id, name FROM shops WHERE name = ? ORDER BY id LIMIT 1", [name]).fetchone()
    return Shop(*row) if row else None


def shops(db: Database) -> list[ShopListed]:
    """Every shop with its count of live devices, by id."""
    rows = db.execute(
        "SELECT s.id, s.name, count(d.id) FROM shops s LEFT JOIN devices d "
        "ON d.shop_id = s.id AND d.revoked_at IS NULL GROUP BY s.id, s.name ORDER BY s.id"
    )
    return [ShopListed(*row) for row in rows]


def shop_info(db: Database, shop_id: int) -> ShopInfo | None:
    """The shop as its devices see it, register fields and all."""
    row = db.execute(
        "SELECT id, name, region, address, acquirer_phone, vendor_phone FROM shops WHERE id = ?", [shop_id]
    ).fetchone()
    return ShopInfo(*row) if row else None


def terminals(db: Database, shop_id: int) -> list[TerminalInfo]:
    rows = db.execute(
        "SELECT id, name, model, serial, tid, mid, acquirer, software_version FROM terminals WHERE shop_id = ? "
        "ORDER BY id", [shop_id]
    )
    return [TerminalInfo(*row) for row in rows]


def staff_names(db: Database, shop_id: int) -> list[str]:
    return [name for (name,) in db.execute("SELECT name FROM staff WHERE shop_id = ? ORDER BY id", [shop_id])]


# ---- devices and enrollment ---------------------------------------------------------------------


def devices(db: Database, shop_id: int | None = None) -> list[DeviceListed]:
    """Every device (of one shop, if given), in the order they enrolled."""
    sql = "SELECT id, shop_id, name, enrolled_at, revoked_at FROM devices"
    params: list = []
    if shop_id is not None:
        sql += " WHERE shop_id = ?"
        params.append(shop_id)
    return [DeviceListed(*row) for row in db.execute(sql + " ORDER BY enrolled_at, id", params)]


def device_exists(db: Database, device_id: str) -> bool:
    return db.execute("SELECT 1 FROM devices WHERE id = ?", [device_id]).fetchone() is not None


def enrolled_device(db: Database, device_id: str) -> EnrolledDevice | None:
    row = db.execute("SELECT shop_id, revoked_at FROM devices WHERE id = ?", [device_id]).fetchone()
    return EnrolledDevice(*row) if row else None


def enroll_code(db: Database, code_hash: str) -> EnrollCode | None:
    row = db.execute(
        "SELECT c.shop_id, s.name, c.expires_at, c.used_by, c.kind FROM enroll_codes c JOIN shops s ON s.id = c.shop_id "
        "WHERE c.code_hash = ?",
        [code_hash],
    ).fetchone()
    return EnrollCode(*row) if row else None


def token_holder(db: Database, token_hash: str) -> TokenHolder | None:
    """The device a live (not revoked) token belongs to."""
    row = db.execute(
        "SELECT t.device_id, t.shop_id, d.kind, d.last_seen_at FROM tokens t JOIN devices d ON d.id = t.device_id "
        "WHERE t.token_hash = ? AND t.revoked_at IS NULL", [token_hash]
    ).fetchone()
    return TokenHolder(id=row[0], shop_id=row[1], hub=row[2] == "hub", last_seen_at=row[3]) if row else None


# ---- what a device's pull learns ----------------------------------------------------------------


def held_event_ids(db: Database, shop_id: int, device: str, limit: int) -> list[str]:
    """Ids of a device's events the server holds, newest first."""
    rows = db.execute(
        "SELECT id FROM events WHERE shop_id = ? AND device = ? ORDER BY seq DESC LIMIT ?", [shop_id, device, limit]
    )
    return [event_id for (event_id,) in rows]


def shop_runs_since(db: Database, shop_id: int, period: str) -> list[RunInfo]:
    """The shop's checklist runs of periods starting on or after `period` (a date), any device's."""
    rows = db.execute(
        "SELECT id, checklist, period, signed_by, completed_at, device, problems_count FROM checklist_runs "
        "WHERE shop_id = ? AND period >= ? ORDER BY period, checklist, completed_at", [shop_id, period]
    )
    return [RunInfo(*row) for row in rows]


# ---- blobs --------------------------------------------------------------------------------------


def blob_size(db: Database, shop_id: int, sha: str) -> int | None:
    """The size of a blob the shop holds, or None."""
    row = db.execute("SELECT size FROM blobs WHERE sha256 = ? AND shop_id = ?", [sha, shop_id]).fetchone()
    return row[0] if row else None


def partial_bytes(db: Database, device: str, but: tuple[int, str]) -> int:
    """Bytes of unfinished uploads a device keeps on the server, but the one named (shop, sha)."""
    return db.execute(
        "SELECT coalesce(sum(size), 0) FROM partials WHERE device = ? AND NOT (shop_id = ? AND sha256 = ?)",
        [device, *but],
    ).fetchone()[0]


def partials_untouched_since(db: Database, before: str, limit: int = 100) -> list[tuple[int, str]]:
    """(shop, sha) of unfinished uploads nobody has added to since `before`."""
    return db.execute(
        "SELECT shop_id, sha256 FROM partials WHERE touched_at < ? ORDER BY touched_at LIMIT ?", [before, limit]
    ).fetchall()


# ---- the hub's log, as its forwarder reads it ---------------------------------------------------


def upstream(db: Database) -> Upstream | None:
    row = db.execute("SELECT url, device, token, cursor, local_shop FROM upstream WHERE id = 1").fetchone()
    return Upstream(*row) if row else None


def held_back(db: Database, formats: list[int], limit: int) -> list[tuple[int, str]]:
    """(seq, body) of events the hub held back whose format is one of these, oldest first."""
    return db.execute(
        f"SELECT e.seq, e.body FROM forward_waiting w JOIN events e ON e.seq = w.seq "
        f"WHERE w.v IN ({', '.join('?' * len(formats))}) ORDER BY w.seq LIMIT ?", [*formats, limit]
    ).fetchall()


def hub_status(db: Database, refused_limit: int = 20) -> HubStatus | None:
    """The hub's link to head office, what waits to go, and what head office refused."""
    row = db.execute(
        "SELECT url, link, cursor, last_forward_at, last_attempt_at, last_error, last_error_at FROM upstream "
        "WHERE id = 1"
    ).fetchone()
    if row is None:
        return None
    url, link, cursor, last_forward_at, last_attempt_at, last_error, last_error_at = row
    photos, size = db.execute(
        "SELECT count(*), coalesce(sum(size), 0) FROM (SELECT DISTINCT b.sha256, b.size FROM blobs b "
        "WHERE NOT EXISTS (SELECT 1 FROM forwarded_blobs f WHERE f.sha256 = b.sha256)) AS waiting"
    ).fetchone()
    refused = db.execute(
        "SELECT event_id, reason, refused_at FROM forward_refusals ORDER BY seq DESC LIMIT ?", [refused_limit]
    ).fetchall()
    return HubStatus(url=url, link=link, cursor=cursor, events_waiting=events_count_after(db, cursor),
                     photos_waiting=photos, bytes_waiting=size, last_forward_at=last_forward_at,
                     last_attempt_at=last_attempt_at, last_error=last_error, last_error_at=last_error_at,
                     refused=[tuple(r) for r in refused],
                     held_back=db.execute("SELECT count(*) FROM forward_waiting").fetchone()[0])


def events_after(db: Database, seq: int, limit: int) -> list[tuple[int, str]]:
    """(seq, body) of the events received after seq, in receive order."""
    return db.execute("SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit]).fetchall()


def events_count_after(db: Database, seq: int) -> int:
    return db.execute("SELECT count(*) FROM events WHERE seq > ?", [seq]).fetchone()[0]


# ---- head office --------------------------------------------------------------------------------
#
# The office's reads. Each takes the caller's Scope and applies it inside its SQL, so a regional
# user's page, export or photo cannot reach a shop outside their regions whatever the URL asks.
# Lists run newest first and page by keyset (the last row's sort key), never OFFSET: the
# thousandth page costs what the first does. Times are the UTC text every *_at column holds.


class Scope(msgspec.Struct, frozen=True):
    """The shops a head-office user may see: every shop (regions None), or those of these regions."""

    regions: tuple[str, ...] | None = None


class Cursor(msgspec.Struct, frozen=True):
    """Where a newest-first page ended: the last row's time, id and shop (the sort key, made unique)."""

    at: str
    id: str
    shop: int


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _in_scope(scope: Scope, column: str) -> tuple[str, list]:
    """`AND <column> IN <the scope's shops>` with its parameters; nothing for a user who sees all."""
    if scope.regions is None:
        return "", []
    if not scope.regions:
        return " AND 1 = 0", []
    return (f" AND {column} IN (SELECT id FROM shops WHERE region IN ({_marks(len(scope.regions))}))",
            list(scope.regions))


def _after(cursor: Cursor | None, at: str, id_: str, shop: str) -> tuple[str, list]:
    """Rows after the cursor in `ORDER BY at DESC, id DESC, shop DESC`; `at <= ?` lets an index on the
    time column bound the scan."""
    if cursor is None:
        return "", []
    return (f" AND {at} <= ? AND ({at} < ? OR {id_} < ? OR ({id_} = ? AND {shop} < ?))",
            [cursor.at, cursor.at, cursor.id, cursor.id, cursor.shop])


def _like(text: str) -> str:
    """A LIKE pattern matching text anywhere, its own % and _ taken literally (ESCAPE '\\'), for a
    lower()ed column: SQLite's LIKE ignores ASCII case and PostgreSQL's does not, lower() on both
    sides ignores it on both (ASCII only on both)."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _shop_filters(shop: int | None, region: str | None, column: str) -> tuple[str, list]:
    sql, params = "", []
    if shop is not None:
        sql += f" AND {column} = ?"
        params.append(shop)
    if region is not None:
        sql += f" AND {column} IN (SELECT id FROM shops WHERE region = ?)"
        params.append(region)
    return sql, params


def _span(start: str | None, end: str | None, column: str) -> tuple[str, list]:
    sql, params = "", []
    if start is not None:
        sql += f" AND {column} >= ?"
        params.append(start)
    if end is not None:
        sql += f" AND {column} < ?"
        params.append(end)
    return sql, params


def _where(*parts: tuple[str, list]) -> tuple[str, list]:
    return "".join(sql for sql, _ in parts), [param for _, params in parts for param in params]


class RecordEvent(msgspec.Struct, frozen=True):
    """One stored event of a record: times, author, and its body (canonical JSON) to decode."""

    id: str
    type: str
    at: str  # the phone's clock when recorded
    received_at: str  # when it reached this server
    recorded_by: str
    device: str
    body: str


_EVENT_COLUMNS = "e.id, e.type, e.at, e.received_at, e.recorded_by, e.device, e.body"


# ---- head office: incidents ----


class IncidentFilter(msgspec.Struct, frozen=True, kw_only=True):
    """The incident list's filters; a page, its exports and its photo ZIP all read through one."""

    shop: int | None = None
    region: str | None = None
    code: str | None = None
    outcome: str | None = None  # open, resolved or escalated
    terminal: str | None = None
    start: str | None = None  # opened at or after (UTC)
    end: str | None = None  # opened before (UTC)
    q: str | None = None  # text in the opening note or a step's note
    kind: str | None = None  # the transaction's kind (sale, void, refund, preauth, balance)
    entry: str | None = None  # how the card was presented (chip, contactless, swipe, qr, manual)
    charged: str | None = None  # was the customer charged: yes, no, unknown


class IncidentRow(msgspec.Struct, frozen=True):
    id: str
    shop_id: int
    shop: str
    region: str | None
    terminal: str
    code: str
    status: str
    opened_at: str
    closed_at: str | None
    steps: int
    photos: int
    recorded_by: str
    note: str
    tx: str | None = None  # the transaction as canonical JSON (sync.types.Transaction), if told


_INCIDENT_COLUMNS = ("i.id, i.shop_id, s.name, s.region, i.terminal, i.code, i.status, i.opened_at, i.closed_at, "
                     "i.steps_count, i.photos_count, i.recorded_by, i.note, i.tx")


def _incident_where(scope: Scope, f: IncidentFilter) -> tuple[str, list]:
    parts = [_in_scope(scope, "i.shop_id"), _shop_filters(f.shop, f.region, "i.shop_id"),
             _span(f.start, f.end, "i.opened_at")]
    for column, value in (("i.code", f.code), ("i.status", f.outcome), ("i.terminal", f.terminal),
                          ("i.tx_kind", f.kind), ("i.tx_entry", f.entry), ("i.tx_charged", f.charged)):
        if value is not None:
            parts.append((f" AND {column} = ?", [value]))
    if f.q:
        pattern = _like(f.q)
        parts.append((" AND (lower(i.note) LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM incident_steps st "
                      "WHERE st.shop_id = i.shop_id AND st.incident = i.id AND lower(st.note) LIKE ? ESCAPE '\\'))",
                      [pattern, pattern]))
    return _where(*parts)


def incidents_sql(scope: Scope, f: IncidentFilter, after: Cursor | None, limit: int) -> tuple[str, list]:
    """The incident list's query and parameters (the benchmark runs and explains it bare)."""
    where, params = _where(_incident_where(scope, f), _after(after, "i.opened_at", "i.id", "i.shop_id"))
    return (f"SELECT {_INCIDENT_COLUMNS} FROM incidents i JOIN shops s ON s.id = i.shop_id WHERE 1 = 1{where} "
            "ORDER BY i.opened_at DESC, i.id DESC, i.shop_id DESC LIMIT ?", [*params, limit])


def incidents(db: Database, scope: Scope, f: IncidentFilter, after: Cursor | None = None, limit: int = 50
              ) -> list[IncidentRow]:
    """A page of incidents, newest first, after the cursor."""
    return [IncidentRow(*row) for row in db.execute(*incidents_sql(scope, f, after, limit))]


def incidents_count(db: Database, scope: Scope, f: IncidentFilter) -> tuple[int, int]:
    """(incidents, photos) matching the filters: what an export will hold."""
    where, params = _incident_where(scope, f)
    return tuple(db.execute(f"SELECT count(*), coalesce(sum(i.photos_count), 0) FROM incidents i WHERE 1 = 1{where}",
                            params).fetchone())


class IncidentDetail(msgspec.Struct, frozen=True):
    id: str
    shop_id: int
    shop: str
    region: str | None
    address: str | None
    terminal: str
    code: str
    status: str
    opened_at: str
    closed_at: str | None
    resolved_at_step: str | None
    escalated_at_step: str | None
    support: str | None
    note: str
    recorded_by: str
    device: str
    device_name: str | None
    steps: int
    photos: int
    tx: str | None = None  # the transaction as canonical JSON, if told


def incident(db: Database, scope: Scope, incident_id: str, shop_id: int | None = None) -> IncidentDetail | None:
    """One incident within scope. Ids are unique within a shop: without `shop_id` the first shop
    holding it is found through the log's incident index."""
    if shop_id is not None:
        which, params = "i.shop_id = ?", [shop_id]
    else:
        which = "i.shop_id IN (SELECT shop_id FROM events WHERE incident = ? AND type = 'incident.opened')"
        params = [incident_id]
    scoped, scope_params = _in_scope(scope, "i.shop_id")
    row = db.execute(
        "SELECT i.id, i.shop_id, s.name, s.region, s.address, i.terminal, i.code, i.status, i.opened_at, i.closed_at, "
        "i.resolved_at_step, i.escalated_at_step, i.support, i.note, i.recorded_by, i.device, d.name, i.steps_count, "
        f"i.photos_count, i.tx FROM incidents i JOIN shops s ON s.id = i.shop_id LEFT JOIN devices d ON d.id = i.device "
        f"WHERE i.id = ? AND {which}{scoped} ORDER BY i.shop_id LIMIT 1",
        [incident_id, *params, *scope_params],
    ).fetchone()
    return IncidentDetail(*row) if row else None


def incident_events(db: Database, shop_id: int, incident_id: str) -> list[RecordEvent]:
    """Every event of an incident (opened, steps, notes, closes), in the order they were recorded."""
    rows = db.execute(
        f"SELECT {_EVENT_COLUMNS} FROM events e WHERE e.incident = ? AND e.shop_id = ? ORDER BY e.at, e.id",
        [incident_id, shop_id],
    )
    return [RecordEvent(*row) for row in rows]


def incident_events_of(db: Database, incidents: list[tuple[int, str]], type_: str | None = None,
                       photos_only: bool = False) -> list[tuple[int, str, RecordEvent]]:
    """(shop, incident, event) for the events of these incidents ((shop, id) pairs, read within scope
    already), of one type or with photos only if asked; in the order of the pairs, then as recorded."""
    if not incidents:
        return []
    order = {pair: n for n, pair in enumerate(incidents)}
    sql = f"SELECT e.shop_id, e.incident, {_EVENT_COLUMNS} FROM events e WHERE e.incident IN ({_marks(len(incidents))})"
    params: list = [incident for _, incident in incidents]
    if type_ is not None:
        sql += " AND e.type = ?"
        params.append(type_)
    if photos_only:
        sql += " AND e.photos > 0"
    found = [(shop, incident, RecordEvent(*rest))
             for shop, incident, *rest in db.execute(sql + " ORDER BY e.at, e.id", params) if (shop, incident) in order]
    return sorted(found, key=lambda item: order[item[0], item[1]])


def average_photo_bytes(db: Database, scope: Scope) -> int:
    """The mean size of the photos held by shops in scope (to tell how big a photo download will be)."""
    scoped, params = _in_scope(scope, "shop_id")
    return int(db.execute(f"SELECT coalesce(avg(size), 0) FROM blobs WHERE 1 = 1{scoped}", params).fetchone()[0])


def photo_in_scope(db: Database, scope: Scope, sha: str) -> bool:
    """Whether a shop within scope holds this photo."""
    scoped, params = _in_scope(scope, "shop_id")
    return db.execute(f"SELECT 1 FROM blobs WHERE sha256 = ?{scoped} LIMIT 1", [sha, *params]).fetchone() is not None


# ---- head office: checklist runs and maintenance ----


class RunFilter(msgspec.Struct, frozen=True, kw_only=True):
    shop: int | None = None
    region: str | None = None
    checklist: str | None = None
    problems: bool | None = None  # only runs with (True) or without (False) a problem
    start: str | None = None  # completed at or after (UTC)
    end: str | None = None


class RunRow(msgspec.Struct, frozen=True):
    id: str
    shop_id: int
    shop: str
    region: str | None
    checklist: str
    period: str
    signed_by: str
    completed_at: str
    items: int
    problems: int
    photos: int


def _run_where(scope: Scope, f: RunFilter) -> tuple[str, list]:
    parts = [_in_scope(scope, "r.shop_id"), _shop_filters(f.shop, f.region, "r.shop_id"),
             _span(f.start, f.end, "r.completed_at")]
    if f.checklist is not None:
        parts.append((" AND r.checklist = ?", [f.checklist]))
    if f.problems is not None:
        parts.append((" AND r.problems_count > 0" if f.problems else " AND r.problems_count = 0", []))
    return _where(*parts)


def runs(db: Database, scope: Scope, f: RunFilter, after: Cursor | None = None, limit: int = 50) -> list[RunRow]:
    """A page of checklist runs, newest first."""
    where, params = _where(_run_where(scope, f), _after(after, "r.completed_at", "r.id", "r.shop_id"))
    rows = db.execute(
        "SELECT r.id, r.shop_id, s.name, s.region, r.checklist, r.period, r.signed_by, r.completed_at, r.items_count, "
        f"r.problems_count, r.photos_count FROM checklist_runs r JOIN shops s ON s.id = r.shop_id WHERE 1 = 1{where} "
        "ORDER BY r.completed_at DESC, r.id DESC, r.shop_id DESC LIMIT ?", [*params, limit])
    return [RunRow(*row) for row in rows]


def runs_count(db: Database, scope: Scope, f: RunFilter) -> int:
    where, params = _run_where(scope, f)
    return db.execute(f"SELECT count(*) FROM checklist_runs r WHERE 1 = 1{where}", params).fetchone()[0]


class MaintenanceFilter(msgspec.Struct, frozen=True, kw_only=True):
    shop: int | None = None
    region: str | None = None
    kind: str | None = None
    terminal: str | None = None
    start: str | None = None  # done at or after (UTC)
    end: str | None = None


class MaintenanceRow(msgspec.Struct, frozen=True):
    id: str
    shop_id: int
    shop: str
    region: str | None
    terminal: str
    kind: str
    done_at: str
    recorded_by: str
    note: str
    photos: int
    fields: str  # JSON object of the kind's fields, decoded by the caller


def _maintenance_where(scope: Scope, f: MaintenanceFilter) -> tuple[str, list]:
    parts = [_in_scope(scope, "m.shop_id"), _shop_filters(f.shop, f.region, "m.shop_id"),
             _span(f.start, f.end, "m.done_at")]
    for column, value in (("m.kind", f.kind), ("m.terminal", f.terminal)):
        if value is not None:
            parts.append((f" AND {column} = ?", [value]))
    return _where(*parts)


def maintenance_entries(db: Database, scope: Scope, f: MaintenanceFilter, after: Cursor | None = None,
                        limit: int = 50) -> list[MaintenanceRow]:
    """A page of maintenance entries, newest first."""
    where, params = _where(_maintenance_where(scope, f), _after(after, "m.done_at", "m.id", "m.shop_id"))
    rows = db.execute(
        "SELECT m.id, m.shop_id, s.name, s.region, m.terminal, m.kind, m.done_at, m.recorded_by, m.note, "
        f"m.photos_count, m.fields FROM maintenance m JOIN shops s ON s.id = m.shop_id WHERE 1 = 1{where} "
        "ORDER BY m.done_at DESC, m.id DESC, m.shop_id DESC LIMIT ?", [*params, limit])
    return [MaintenanceRow(*row) for row in rows]


def maintenance_count(db: Database, scope: Scope, f: MaintenanceFilter) -> int:
    where, params = _maintenance_where(scope, f)
    return db.execute(f"SELECT count(*) FROM maintenance m WHERE 1 = 1{where}", params).fetchone()[0]


class ShopEvent(msgspec.Struct, frozen=True):
    """An event with the shop it belongs to (a run's or a maintenance entry's detail page)."""

    shop_id: int
    shop: str
    region: str | None
    device_name: str | None
    event: RecordEvent


def shop_event(db: Database, scope: Scope, shop_id: int, event_id: str, type_: str) -> ShopEvent | None:
    """One event of a type, by its shop and id, within scope."""
    scoped, params = _in_scope(scope, "e.shop_id")
    row = db.execute(
        f"SELECT e.shop_id, s.name, s.region, d.name, {_EVENT_COLUMNS} FROM events e JOIN shops s ON s.id = e.shop_id "
        f"LEFT JOIN devices d ON d.id = e.device WHERE e.shop_id = ? AND e.id = ? AND e.type = ?{scoped}",
        [shop_id, event_id, type_, *params],
    ).fetchone()
    return ShopEvent(*row[:4], event=RecordEvent(*row[4:])) if row else None


# ---- head office: the register, devices ----


class ShopRow(msgspec.Struct, frozen=True):
    id: int
    name: str
    region: str | None
    address: str | None
    acquirer_phone: str | None
    vendor_phone: str | None
    terminals: int
    devices: int  # enrolled and not revoked


_SHOP_ROW = ("SELECT s.id, s.name, s.region, s.address, s.acquirer_phone, s.vendor_phone, "
             "(SELECT count(*) FROM terminals t WHERE t.shop_id = s.id), "
             "(SELECT count(*) FROM devices d WHERE d.shop_id = s.id AND d.revoked_at IS NULL) FROM shops s")


def shops_page(db: Database, scope: Scope, region: str | None = None, q: str | None = None, after: int = 0,
               limit: int = 100) -> list[ShopRow]:
    """A page of shops in scope by id, after the shop numbered `after`."""
    where, params = _where(_in_scope(scope, "s.id"), _shop_filters(None, region, "s.id"))
    if q:
        where += " AND lower(s.name) LIKE ? ESCAPE '\\'"
        params.append(_like(q))
    rows = db.execute(f"{_SHOP_ROW} WHERE s.id > ?{where} ORDER BY s.id LIMIT ?", [after, *params, limit])
    return [ShopRow(*row) for row in rows]


def shop_row(db: Database, scope: Scope, shop_id: int) -> ShopRow | None:
    where, params = _in_scope(scope, "s.id")
    row = db.execute(f"{_SHOP_ROW} WHERE s.id = ?{where}", [shop_id, *params]).fetchone()
    return ShopRow(*row) if row else None


def regions(db: Database, scope: Scope) -> list[str]:
    """The regions of the shops in scope, sorted."""
    where, params = _in_scope(scope, "id")
    rows = db.execute(f"SELECT DISTINCT region FROM shops WHERE region IS NOT NULL{where} ORDER BY region", params)
    return [region for (region,) in rows]


def shop_choices(db: Database, scope: Scope, region: str | None, limit: int) -> list[Shop]:
    """Shops in scope (of one region, if given) by name, at most `limit` (a filter's choices)."""
    where, params = _where(_in_scope(scope, "id"), _shop_filters(None, region, "id"))
    rows = db.execute(f"SELECT id, name FROM shops WHERE 1 = 1{where} ORDER BY name, id LIMIT ?", [*params, limit])
    return [Shop(*row) for row in rows]


class StaffRow(msgspec.Struct, frozen=True):
    id: int
    name: str


def staff(db: Database, shop_id: int) -> list[StaffRow]:
    return [StaffRow(*row) for row in db.execute("SELECT id, name FROM staff WHERE shop_id = ? ORDER BY id", [shop_id])]


class DeviceRow(msgspec.Struct, frozen=True):
    id: str
    name: str
    kind: str
    shop_id: int
    shop: str
    enrolled_at: str
    revoked_at: str | None
    last_seen_at: str | None
    last_sync_at: str | None  # when the last of its events reached this server
    events: int  # its events held here


_DEVICE_ROW = (
    "SELECT d.id, d.name, d.kind, d.shop_id, s.name, d.enrolled_at, d.revoked_at, d.last_seen_at, "
    "(SELECT e.received_at FROM events e WHERE e.shop_id = d.shop_id AND e.device = d.id ORDER BY e.seq DESC LIMIT 1), "
    "(SELECT count(*) FROM events e WHERE e.shop_id = d.shop_id AND e.device = d.id) "
    "FROM devices d JOIN shops s ON s.id = d.shop_id"
)


def devices_page(db: Database, scope: Scope, shop: int | None = None, region: str | None = None,
                 active: bool | None = None, after: Cursor | None = None, limit: int = 50) -> list[DeviceRow]:
    """A page of devices in scope, the latest enrolled first."""
    parts = [_in_scope(scope, "d.shop_id"), _shop_filters(shop, region, "d.shop_id"),
             _after(after, "d.enrolled_at", "d.id", "d.shop_id")]
    if active is not None:
        parts.append((" AND d.revoked_at IS NULL" if active else " AND d.revoked_at IS NOT NULL", []))
    where, params = _where(*parts)
    rows = db.execute(f"{_DEVICE_ROW} WHERE 1 = 1{where} ORDER BY d.enrolled_at DESC, d.id DESC, d.shop_id DESC "
                      "LIMIT ?", [*params, limit])
    return [DeviceRow(*row) for row in rows]


def device_row(db: Database, scope: Scope, device_id: str) -> DeviceRow | None:
    where, params = _in_scope(scope, "d.shop_id")
    row = db.execute(f"{_DEVICE_ROW} WHERE d.id = ?{where}", [device_id, *params]).fetchone()
    return DeviceRow(*row) if row else None


# ---- head office: what needs attention ----


class Attention(msgspec.Struct, frozen=True):
    open_count: int
    open: list[IncidentRow]  # the newest
    escalated_count: int  # of the incidents opened since `since`
    escalated: list[IncidentRow]
    problem_runs_count: int  # checklist runs since `since` with a problem
    problem_runs: list[RunRow]
    silent_devices: int  # active devices not heard from since `since`


def attention(db: Database, scope: Scope, since: str, limit: int = 10) -> Attention:
    """What head office should look at today: open incidents, recent escalations and problems, silent devices."""
    scoped, params = _in_scope(scope, "i.shop_id")
    open_count = db.execute(f"SELECT count(*) FROM incidents i WHERE i.status = 'open'{scoped}", params).fetchone()[0]
    open_rows = incidents(db, scope, IncidentFilter(outcome="open"), limit=limit)
    escalated = IncidentFilter(outcome="escalated", start=since)
    escalated_count = incidents_count(db, scope, escalated)[0]
    problems = RunFilter(problems=True, start=since)
    scoped, params = _in_scope(scope, "d.shop_id")
    silent = db.execute(
        "SELECT count(*) FROM devices d WHERE d.revoked_at IS NULL AND d.enrolled_at < ? "
        "AND (d.last_seen_at IS NULL OR d.last_seen_at < ?) AND coalesce((SELECT e.received_at FROM events e "
        f"WHERE e.shop_id = d.shop_id AND e.device = d.id ORDER BY e.seq DESC LIMIT 1), '') < ?{scoped}",
        [since, since, since, *params],
    ).fetchone()[0]
    return Attention(
        open_count=open_count, open=open_rows, escalated_count=escalated_count,
        escalated=incidents(db, scope, escalated, limit=limit), problem_runs_count=runs_count(db, scope, problems),
        problem_runs=runs(db, scope, problems, limit=limit), silent_devices=silent,
    )


# ---- head office: people and the audit log ----


class OfficeUser(msgspec.Struct, frozen=True):
    """A signed-in head-office user: who, in what role, which regions (regional only), which language."""

    id: int
    name: str
    role: str  # admin, regional or viewer
    lang: str
    regions: tuple[str, ...] = ()

    @property
    def scope(self) -> Scope:
        return Scope(self.regions if self.role == "regional" else None)


class Account(msgspec.Struct, frozen=True):
    """What a sign-in checks: the hash, and whether the account is disabled."""

    id: int
    name: str
    password_hash: str
    disabled_at: str | None


class UserListed(msgspec.Struct, frozen=True):
    id: int
    name: str
    role: str
    regions: tuple[str, ...]
    created_at: str
    disabled_at: str | None


def _regions_of(db: Database, user_id: int) -> tuple[str, ...]:
    return tuple(r for (r,) in db.execute("SELECT region FROM user_regions WHERE user_id = ? ORDER BY region",
                                          [user_id]))


def office_user(db: Database, user_id: int) -> OfficeUser | None:
    """The user of a session, if they exist and are not disabled."""
    row = db.execute("SELECT id, name, role, lang FROM users WHERE id = ? AND disabled_at IS NULL",
                     [user_id]).fetchone()
    return OfficeUser(*row, regions=_regions_of(db, user_id)) if row else None


def account(db: Database, name: str) -> Account | None:
    """The account a sign-in names (names are unique whatever their case)."""
    row = db.execute("SELECT id, name, password_hash, disabled_at FROM users WHERE lower(name) = lower(?)",
                     [name]).fetchone()
    return Account(*row) if row else None


def users(db: Database) -> list[UserListed]:
    rows = db.execute("SELECT id, name, role, created_at, disabled_at FROM users ORDER BY lower(name)").fetchall()
    return [UserListed(id=i, name=n, role=r, regions=_regions_of(db, i), created_at=c, disabled_at=d)
            for i, n, r, c, d in rows]


class AuditEntry(msgspec.Struct, frozen=True):
    id: int
    at: str
    actor: str
    action: str
    target: str
    detail: str
    address: str


def audit_entries(db: Database, before: int | None = None, action: str | None = None, limit: int = 100
                  ) -> list[AuditEntry]:
    """A page of the audit log, newest first, before the entry numbered `before`."""
    sql, params = "SELECT id, at, actor, action, target, detail, address FROM audit_log WHERE 1 = 1", []
    if before is not None:
        sql += " AND id < ?"
        params.append(before)
    if action is not None:
        sql += " AND action = ?"
        params.append(action)
    return [AuditEntry(*row) for row in db.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])]


# ---- head office: compliance ----
#
# The periods themselves come from the content's schedules (server/periods.py); these read the
# runs for them. Periods travel into the SQL as a VALUES table (checklist, period, due_end, end).


class ComplianceShop(msgspec.Struct, frozen=True):
    id: int
    name: str
    region: str | None
    enrolled_at: str | None  # when its first device enrolled: expected to do its checklists from then


def compliance_shops(db: Database, scope: Scope, region: str | None, after: int, limit: int,
                     shop: int | None = None) -> list[ComplianceShop]:
    """A page of shops in scope by number, with when each first enrolled a device."""
    where, params = _where(_in_scope(scope, "s.id"), _shop_filters(shop, region, "s.id"))
    rows = db.execute(
        "SELECT s.id, s.name, s.region, (SELECT min(d.enrolled_at) FROM devices d WHERE d.shop_id = s.id) "
        f"FROM shops s WHERE s.id > ?{where} ORDER BY s.id LIMIT ?", [after, *params, limit])
    return [ComplianceShop(*row) for row in rows]


class PeriodRun(msgspec.Struct, frozen=True):
    shop_id: int
    checklist: str
    period: str
    id: str
    completed_at: str
    problems: int
    received_at: str


def _periods_cte(periods) -> tuple[str, list]:
    values = ", ".join(["(?, ?, ?, ?)"] * len(periods))
    return (f"p(checklist, period, due_end, period_end) AS (VALUES {values})",
            [v for p in periods for v in (p.checklist, p.start.isoformat(), p.due_end, p.end)])


def period_runs(db: Database, scope: Scope, shop_ids: list[int], firsts: dict[str, str]) -> list[PeriodRun]:
    """The runs of these shops (read within scope) for each checklist's periods from its first shown
    one on (`firsts`: checklist -> first period), with when each reached head office."""
    if not shop_ids or not firsts:
        return []
    scoped, params = _in_scope(scope, "r.shop_id")
    which = " OR ".join(["(r.checklist = ? AND r.period >= ?)"] * len(firsts))
    rows = db.execute(
        "SELECT r.shop_id, r.checklist, r.period, r.id, r.completed_at, r.problems_count, e.received_at "
        "FROM checklist_runs r JOIN events e ON e.shop_id = r.shop_id AND e.id = r.id "
        f"WHERE r.shop_id IN ({_marks(len(shop_ids))}) AND ({which}){scoped}",
        [*shop_ids, *(v for item in firsts.items() for v in item), *params])
    return [PeriodRun(*row) for row in rows]


class RegionShare(msgspec.Struct, frozen=True):
    region: str | None
    expected: int  # ended periods the region's shops were expected to do
    on_time: int
    late: int

    @property
    def missed(self) -> int:
        return self.expected - self.on_time - self.late


def compliance_sql(scope: Scope, periods, region: str | None = None) -> tuple[str, list]:
    """Per region: the ended periods expected of its shops, and how many were done on time and late."""
    cte, params = _periods_cte(periods)
    scoped, scope_params = _where(_in_scope(scope, "s.id"), _shop_filters(None, region, "s.id"))
    runs_scoped, runs_params = _in_scope(scope, "r.shop_id")
    return (
        f"WITH {cte}, firsts AS (SELECT r.shop_id, r.checklist, r.period, min(r.completed_at) AS done_at "
        "FROM p JOIN checklist_runs r ON r.checklist = p.checklist AND r.period = p.period "
        f"WHERE 1 = 1{runs_scoped} GROUP BY r.shop_id, r.checklist, r.period), "
        "starts AS (SELECT shop_id, min(enrolled_at) AS at FROM devices GROUP BY shop_id) "
        "SELECT s.region, count(*), coalesce(sum(CASE WHEN f.done_at < p.due_end THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN f.done_at >= p.due_end THEN 1 ELSE 0 END), 0) "
        "FROM shops s JOIN starts st ON st.shop_id = s.id JOIN p ON st.at < p.due_end "
        "LEFT JOIN firsts f ON f.shop_id = s.id AND f.checklist = p.checklist AND f.period = p.period "
        f"WHERE 1 = 1{scoped} GROUP BY s.region ORDER BY s.region",
        [*params, *runs_params, *scope_params])


def compliance_by_region(db: Database, scope: Scope, periods, region: str | None = None) -> list[RegionShare]:
    """Each region's share of ended periods done on time (periods: server.periods.Period, ended ones)."""
    if not periods:
        return []
    return [RegionShare(*row) for row in db.execute(*compliance_sql(scope, periods, region))]


def missed_candidates(db: Database, periods) -> list[tuple[int, str, str]]:
    """(shop, checklist, period) of these periods that a shop enrolled before its due day has no run
    for: the periods missed, chain-wide (for the alert rules, which see every shop)."""
    if not periods:
        return []
    cte, params = _periods_cte(periods)
    return db.execute(
        f"WITH {cte}, starts AS (SELECT shop_id, min(enrolled_at) AS at FROM devices GROUP BY shop_id) "
        "SELECT st.shop_id, p.checklist, p.period FROM starts st JOIN p ON st.at < p.due_end "
        "WHERE NOT EXISTS (SELECT 1 FROM checklist_runs r WHERE r.shop_id = st.shop_id AND r.checklist = p.checklist "
        "AND r.period = p.period)", params).fetchall()


# ---- head office: corrective actions ----


class ActionFilter(msgspec.Struct, frozen=True, kw_only=True):
    shop: int | None = None
    region: str | None = None
    checklist: str | None = None
    item: str | None = None
    state: str | None = "open"  # open, closed, or None for both
    start: str | None = None  # opened at or after (UTC)
    end: str | None = None


class ActionRow(msgspec.Struct, frozen=True):
    shop_id: int
    shop: str
    region: str | None
    run: str
    item: str
    checklist: str
    period: str
    opened_at: str
    note: str
    photo: str | None
    state: str
    closed_at: str | None
    closed_kind: str | None
    closed_by: str | None
    close_note: str | None

    @property
    def id(self) -> str:  # the keyset pages' unique part (with the time and the shop)
        return f"{self.run}/{self.item}"


_ACTION_COLUMNS = ("a.shop_id, s.name, s.region, a.run, a.item, a.checklist, a.period, a.opened_at, a.note, a.photo, "
                   "a.state, a.closed_at, a.closed_kind, a.closed_by, a.close_note")


def _action_where(scope: Scope, f: ActionFilter) -> tuple[str, list]:
    parts = [_in_scope(scope, "a.shop_id"), _shop_filters(f.shop, f.region, "a.shop_id"),
             _span(f.start, f.end, "a.opened_at")]
    for column, value in (("a.checklist", f.checklist), ("a.item", f.item), ("a.state", f.state)):
        if value is not None:
            parts.append((f" AND {column} = ?", [value]))
    return _where(*parts)


def actions(db: Database, scope: Scope, f: ActionFilter, after: Cursor | None = None, limit: int = 50
            ) -> list[ActionRow]:
    """A page of corrective actions, newest first like every list (each row's age says how long it is open)."""
    where, params = _where(_action_where(scope, f),
                           _after(after, "a.opened_at", "(a.run || '/' || a.item)", "a.shop_id"))
    rows = db.execute(
        f"SELECT {_ACTION_COLUMNS} FROM actions a JOIN shops s ON s.id = a.shop_id WHERE 1 = 1{where} "
        "ORDER BY a.opened_at DESC, (a.run || '/' || a.item) DESC, a.shop_id DESC LIMIT ?", [*params, limit])
    return [ActionRow(*row) for row in rows]


def actions_count(db: Database, scope: Scope, f: ActionFilter) -> int:
    where, params = _action_where(scope, f)
    return db.execute(f"SELECT count(*) FROM actions a WHERE 1 = 1{where}", params).fetchone()[0]


def action(db: Database, scope: Scope, shop_id: int, run: str, item: str) -> ActionRow | None:
    scoped, params = _in_scope(scope, "a.shop_id")
    row = db.execute(f"SELECT {_ACTION_COLUMNS} FROM actions a JOIN shops s ON s.id = a.shop_id "
                     f"WHERE a.shop_id = ? AND a.run = ? AND a.item = ?{scoped}", [shop_id, run, item, *params]
                     ).fetchone()
    return ActionRow(*row) if row else None


# ---- head office: trends ----


class TrendFilter(msgspec.Struct, frozen=True, kw_only=True):
    region: str | None = None
    shop: int | None = None
    start: str  # opened at or after (UTC)
    end: str | None = None


def _trend_where(scope: Scope, f: TrendFilter) -> tuple[str, list]:
    return _where(_in_scope(scope, "i.shop_id"), _shop_filters(f.shop, f.region, "i.shop_id"),
                  _span(f.start, f.end, "i.opened_at"))


class TrendRow(msgspec.Struct, frozen=True, array_like=True):
    """What the trends count of one incident."""

    shop_id: int
    shop: str
    terminal: str
    code: str
    status: str
    opened_at: str
    seconds: float | None  # from opened to closed, if closed
    resolved_at_step: str | None
    tx_entry: str | None
    tx_amount: float | None
    tx_currency: str | None


def trends_sql(scope: Scope, f: TrendFilter, engine: str = "sqlite") -> tuple[str, list]:
    """The one read behind every chart of the trends page: the window's incidents, walked once
    through the time index (a query per chart walked it nine times: 490 ms against 90 on the
    benchmark's 38,000 incidents of 90 days)."""
    where, params = _trend_where(scope, f)
    seconds = dialect.seconds_between(engine, "i.closed_at", "i.opened_at")
    return ("SELECT i.shop_id, s.name, i.terminal, i.code, i.status, i.opened_at, "
            f"CASE WHEN i.closed_at < i.opened_at THEN 0 ELSE {seconds} END, i.resolved_at_step, "
            f"i.tx_entry, i.tx_amount, i.tx_currency FROM incidents i JOIN shops s ON s.id = i.shop_id "
            f"WHERE 1 = 1{where}", params)


def trend_rows(db: Database, scope: Scope, f: TrendFilter) -> list[TrendRow]:
    return [TrendRow(*row) for row in db.execute(*trends_sql(scope, f, dialect.engine(db)))]


def terminal_register(db: Database, scope: Scope) -> dict[tuple[int, str], tuple[str | None, str | None]]:
    """(shop, terminal name) -> (model, acquirer) for the shops in scope (the first of a name)."""
    where, params = _in_scope(scope, "shop_id")
    found: dict[tuple[int, str], tuple[str | None, str | None]] = {}
    for shop, name, model, acquirer in db.execute(
            f"SELECT shop_id, name, model, acquirer FROM terminals WHERE 1 = 1{where} ORDER BY id DESC", params):
        found[shop, name] = (model, acquirer)
    return found


AMOUNT_BANDS = (100, 1000, 5000)  # the bounds of the amount bands (in the transaction's currency)


def fixes_by_step(db: Database, since: str) -> list[tuple[str, str, str | None, int]]:
    """(code, outcome, step it was resolved at, count) of the incidents closed chain-wide that were
    opened since `since`: what the chain learned (it goes to every phone, so it sees every shop)."""
    return db.execute(
        "SELECT code, status, resolved_at_step, count(*) FROM incidents WHERE opened_at >= ? AND status <> 'open' "
        "GROUP BY code, status, resolved_at_step", [since]).fetchall()


# ---- head office: alerts ----


class AlertRule(msgspec.Struct, frozen=True):
    id: int
    kind: str  # shop_code, terminal, group_code, checklist_missed
    code: str | None
    count: int
    minutes: int
    grouping: str | None  # acquirer or region (group_code)
    enabled: bool
    changed_at: str


def alert_rules(db: Database, enabled_only: bool = False) -> list[AlertRule]:
    sql = "SELECT id, kind, code, count, minutes, grouping, enabled, changed_at FROM alert_rules"
    rows = db.execute(sql + (" WHERE enabled = 1" if enabled_only else "") + " ORDER BY id")
    return [AlertRule(*row[:6], bool(row[6]), row[7]) for row in rows]


def alert_rule(db: Database, rule_id: int) -> AlertRule | None:
    return next((r for r in alert_rules(db) if r.id == rule_id), None)


class AlertCursor(msgspec.Struct, frozen=True):
    seq: int
    periodic_at: str | None
    newest: int  # the newest event's seq


def alert_cursor(db: Database) -> AlertCursor:
    seq, periodic_at = db.execute("SELECT seq, periodic_at FROM alert_cursor WHERE id = 1").fetchone()
    return AlertCursor(seq, periodic_at, newest_seq(db))


def newest_seq(db: Database) -> int:
    return db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]


class NewIncident(msgspec.Struct, frozen=True):
    seq: int
    shop_id: int
    id: str
    code: str
    terminal: str
    opened_at: str  # when it happened (the phone's clock)
    received_at: str
    region: str | None
    acquirer: str | None


def incidents_received(db: Database, after: int, upto: int) -> list[NewIncident]:
    """The incidents opened by the events received after seq `after` up to `upto`, with their shop's
    region and their terminal's acquirer from the register."""
    rows = db.execute(
        "SELECT e.seq, i.shop_id, i.id, i.code, i.terminal, i.opened_at, e.received_at, s.region, "
        "(SELECT t.acquirer FROM terminals t WHERE t.shop_id = i.shop_id AND t.name = i.terminal ORDER BY t.id LIMIT 1) "
        "FROM events e JOIN incidents i ON i.shop_id = e.shop_id AND i.id = e.id JOIN shops s ON s.id = i.shop_id "
        "WHERE e.seq > ? AND e.seq <= ? AND e.type = 'incident.opened' ORDER BY e.seq", [after, upto])
    return [NewIncident(*row) for row in rows]


def shop_incident_times(db: Database, shop_id: int, code: str | None, start: str, end: str) -> list[tuple[str, str]]:
    """(opened_at, code) of a shop's incidents (of one code, if given) opened within [start, end]."""
    sql = "SELECT opened_at, code FROM incidents WHERE shop_id = ? AND opened_at >= ? AND opened_at <= ?"
    params: list = [shop_id, start, end]
    if code is not None:
        sql += " AND code = ?"
        params.append(code)
    return db.execute(sql + " ORDER BY opened_at", params).fetchall()


def shop_incident_count(db: Database, shop_id: int, start: str, end: str, code: str | None = None,
                        terminal: str | None = None) -> int:
    """How many of a shop's incidents (of a code, or at a terminal) were opened within [start, end]."""
    sql = "SELECT count(*) FROM incidents WHERE shop_id = ? AND opened_at >= ? AND opened_at <= ?"
    params: list = [shop_id, start, end]
    for column, value in (("code", code), ("terminal", terminal)):
        if value is not None:
            sql += f" AND {column} = ?"
            params.append(value)
    return db.execute(sql, params).fetchone()[0]


def terminal_incident_times(db: Database, shop_id: int, terminal: str, start: str, end: str) -> list[str]:
    return [at for (at,) in db.execute(
        "SELECT opened_at FROM incidents WHERE shop_id = ? AND opened_at >= ? AND opened_at <= ? AND terminal = ? "
        "ORDER BY opened_at", [shop_id, start, end, terminal])]


def group_incidents(db: Database, code: str, start: str, end: str, grouping: str, value: str
                    ) -> list[tuple[str, int]]:
    """(opened_at, shop) of the incidents of a code within [start, end] at shops of one region, or
    on terminals of one acquirer (by the register)."""
    if grouping == "region":
        sql = ("SELECT i.opened_at, i.shop_id FROM incidents i JOIN shops s ON s.id = i.shop_id WHERE i.code = ? "
               "AND i.opened_at >= ? AND i.opened_at <= ? AND s.region = ?")
    else:
        sql = ("SELECT i.opened_at, i.shop_id FROM incidents i WHERE i.code = ? AND i.opened_at >= ? "
               "AND i.opened_at <= ? AND (SELECT t.acquirer FROM terminals t WHERE t.shop_id = i.shop_id "
               "AND t.name = i.terminal ORDER BY t.id LIMIT 1) = ?")
    return db.execute(sql + " ORDER BY i.opened_at", [code, start, end, value]).fetchall()


class AlertEpisode(msgspec.Struct, frozen=True):
    id: int
    first_at: str
    last_at: str
    count: int


def alert_episode(db: Database, rule_id: int, subject: str, since: str) -> AlertEpisode | None:
    """The alert of this rule and subject whose records reach `since` or later: an episode still going."""
    row = db.execute("SELECT id, first_at, last_at, count FROM alerts WHERE rule_id = ? AND subject = ? "
                     "AND last_at >= ? ORDER BY last_at DESC LIMIT 1", [rule_id, subject, since]).fetchone()
    return AlertEpisode(*row) if row else None


class AlertRow(msgspec.Struct, frozen=True):
    id: int
    rule_id: int
    kind: str
    shop_id: int | None
    shop: str | None
    region: str | None
    subject: str
    count: int
    first_at: str
    last_at: str
    raised_at: str
    late: bool
    detail: str  # JSON
    seen_at: str | None
    seen_by: str | None


_ALERT_COLUMNS = ("a.id, a.rule_id, a.kind, a.shop_id, s.name, a.region, a.subject, a.count, a.first_at, a.last_at, "
                  "a.raised_at, a.late, a.detail, a.seen_at, a.seen_by")


def _alert_scope(scope: Scope) -> tuple[str, list]:
    """An alert of a shop is in scope with its shop; of a region, with its region; chain-wide (an
    acquirer's shops), only for users who see every shop."""
    if scope.regions is None:
        return "", []
    if not scope.regions:
        return " AND 1 = 0", []
    marks = _marks(len(scope.regions))
    return (f" AND (a.shop_id IN (SELECT id FROM shops WHERE region IN ({marks})) OR (a.shop_id IS NULL "
            f"AND a.region IN ({marks})))", [*scope.regions, *scope.regions])


def alerts(db: Database, scope: Scope, before: int | None = None, limit: int = 50, unseen: bool = False
           ) -> list[AlertRow]:
    """A page of alerts in scope, the latest raised first (by id), before the alert numbered `before`."""
    where, params = _alert_scope(scope)
    if before is not None:
        where += " AND a.id < ?"
        params.append(before)
    if unseen:
        where += " AND a.seen_at IS NULL"
    rows = db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts a LEFT JOIN shops s ON s.id = a.shop_id "
                      f"WHERE 1 = 1{where} ORDER BY a.id DESC LIMIT ?", [*params, limit])
    return [AlertRow(*row[:11], bool(row[11]), *row[12:]) for row in rows]


def alerts_unseen(db: Database, scope: Scope) -> int:
    where, params = _alert_scope(scope)
    return db.execute(f"SELECT count(*) FROM alerts a WHERE a.seen_at IS NULL{where}", params).fetchone()[0]


def alert(db: Database, scope: Scope, alert_id: int) -> AlertRow | None:
    where, params = _alert_scope(scope)
    row = db.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts a LEFT JOIN shops s ON s.id = a.shop_id "
                     f"WHERE a.id = ?{where}", [alert_id, *params]).fetchone()
    return AlertRow(*row[:11], bool(row[11]), *row[12:]) if row else None


class AlertTarget(msgspec.Struct, frozen=True):
    id: int
    kind: str  # webhook or email
    address: str
    secret: str | None
    enabled: bool
    created_at: str


def alert_targets(db: Database, enabled_only: bool = False) -> list[AlertTarget]:
    sql = "SELECT id, kind, address, secret, enabled, created_at FROM alert_targets"
    rows = db.execute(sql + (" WHERE enabled = 1" if enabled_only else "") + " ORDER BY id")
    return [AlertTarget(*row[:4], bool(row[4]), row[5]) for row in rows]


class DeliveryRow(msgspec.Struct, frozen=True):
    id: int
    alert_id: int
    target_id: int
    state: str
    tries: int
    next_at: str
    created_at: str
    done_at: str | None


class DeliveryTry(msgspec.Struct, frozen=True):
    delivery_id: int
    at: str
    ok: bool
    status: str
    answer: str


def deliveries(db: Database, target_id: int, limit: int = 50) -> list[tuple[DeliveryRow, list[DeliveryTry]]]:
    """A target's latest deliveries, each with its tries in order."""
    rows = [DeliveryRow(*row) for row in db.execute(
        "SELECT id, alert_id, target_id, state, tries, next_at, created_at, done_at FROM deliveries "
        "WHERE target_id = ? ORDER BY id DESC LIMIT ?", [target_id, limit])]
    tries: dict[int, list[DeliveryTry]] = {}
    if rows:
        for row in db.execute(f"SELECT delivery_id, at, ok, status, answer FROM delivery_tries WHERE delivery_id IN "
                              f"({_marks(len(rows))}) ORDER BY id", [r.id for r in rows]):
            tries.setdefault(row[0], []).append(DeliveryTry(row[0], row[1], bool(row[2]), row[3], row[4]))
    return [(row, tries.get(row.id, [])) for row in rows]


class DueDelivery(msgspec.Struct, frozen=True):
    id: int
    tries: int
    target: AlertTarget
    alert: AlertRow


def delivery_work(db: Database, ids: list[int]) -> list[DueDelivery]:
    """What claimed deliveries need: the target and the alert."""
    if not ids:
        return []
    rows = db.execute(
        f"SELECT d.id, d.tries, t.id, t.kind, t.address, t.secret, t.enabled, t.created_at, {_ALERT_COLUMNS} "
        "FROM deliveries d JOIN alert_targets t ON t.id = d.target_id JOIN alerts a ON a.id = d.alert_id "
        f"LEFT JOIN shops s ON s.id = a.shop_id WHERE d.id IN ({_marks(len(ids))}) ORDER BY d.id", ids)
    return [DueDelivery(id=row[0], tries=row[1], target=AlertTarget(*row[2:6], bool(row[6]), row[7]),
                        alert=AlertRow(*row[8:19], bool(row[19]), *row[20:])) for row in rows]


# ---- head office: feed tokens ----


class FeedToken(msgspec.Struct, frozen=True):
    id: int
    name: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


def feed_tokens(db: Database, user_id: int) -> list[FeedToken]:
    rows = db.execute("SELECT id, name, created_at, last_used_at, revoked_at FROM feed_tokens WHERE user_id = ? "
                      "ORDER BY id DESC", [user_id])
    return [FeedToken(*row) for row in rows]


def feed_user(db: Database, token_hash: str) -> tuple[int, OfficeUser] | None:
    """(token id, its user) for a live feed token of a user who is not disabled."""
    row = db.execute("SELECT id, user_id, last_used_at FROM feed_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                     [token_hash]).fetchone()
    if row is None:
        return None
    user = office_user(db, row[1])
    return (row[0], user) if user else None


# ---- head office: the OData feed ----
#
# Each entity set: its table, its columns by the names the feed gives them (an SQL expression and
# an EDM type each), and its key in the order the table is stored, which the feed pages by.


class FeedColumn(msgspec.Struct, frozen=True):
    sql: str
    type: str  # Edm.String, Edm.Int64, Edm.DateTimeOffset, Edm.Date, Edm.Decimal, Edm.Boolean
    nullable: bool = True


def _c(sql: str, type_: str = "Edm.String", nullable: bool = True) -> FeedColumn:
    return FeedColumn(sql, type_, nullable)


class FeedSet(msgspec.Struct, frozen=True):
    table: str  # FROM … (alias x), joined to shops s
    columns: dict[str, FeedColumn]
    key: tuple[str, ...]  # feed names of the key columns, in the table's order


_SHOP_COLUMNS = {"shop_id": _c("x.shop_id", "Edm.Int64", False), "shop": _c("s.name", nullable=False),
                 "region": _c("s.region")}
FEED_SETS = {
    "Incidents": FeedSet("incidents x", {
        **_SHOP_COLUMNS, "id": _c("x.id", nullable=False), "terminal": _c("x.terminal", nullable=False),
        "code": _c("x.code", nullable=False), "status": _c("x.status", nullable=False),
        "opened_at": _c("x.opened_at", "Edm.DateTimeOffset", False), "closed_at": _c("x.closed_at", "Edm.DateTimeOffset"),
        "resolved_at_step": _c("x.resolved_at_step"), "escalated_at_step": _c("x.escalated_at_step"),
        "support": _c("x.support"), "steps": _c("x.steps_count", "Edm.Int64", False),
        "photos": _c("x.photos_count", "Edm.Int64", False), "recorded_by": _c("x.recorded_by", nullable=False),
        "note": _c("x.note", nullable=False), "tx_kind": _c("x.tx_kind"), "tx_entry": _c("x.tx_entry"),
        "tx_charged": _c("x.tx_charged"), "tx_amount": _c("x.tx_amount", "Edm.Decimal"),
        "tx_currency": _c("x.tx_currency"), "tx": _c("x.tx")}, ("shop_id", "id")),
    "Steps": FeedSet("incident_steps x", {
        **_SHOP_COLUMNS, "incident": _c("x.incident", nullable=False), "at": _c("x.at", "Edm.DateTimeOffset", False),
        "id": _c("x.id", nullable=False), "flow": _c("x.flow", nullable=False), "step": _c("x.step", nullable=False),
        "answer": _c("x.answer", nullable=False), "note": _c("x.note", nullable=False),
        "recorded_by": _c("x.recorded_by", nullable=False), "photos": _c("x.photos_count", "Edm.Int64", False)},
        ("shop_id", "incident", "at", "id")),
    "ChecklistRuns": FeedSet("checklist_runs x", {
        **_SHOP_COLUMNS, "checklist": _c("x.checklist", nullable=False), "period": _c("x.period", "Edm.Date", False),
        "id": _c("x.id", nullable=False), "signed_by": _c("x.signed_by", nullable=False),
        "completed_at": _c("x.completed_at", "Edm.DateTimeOffset", False),
        "items": _c("x.items_count", "Edm.Int64", False), "problems": _c("x.problems_count", "Edm.Int64", False),
        "photos": _c("x.photos_count", "Edm.Int64", False)}, ("shop_id", "checklist", "period", "id")),
    "Actions": FeedSet("actions x", {
        **_SHOP_COLUMNS, "run": _c("x.run", nullable=False), "item": _c("x.item", nullable=False),
        "checklist": _c("x.checklist", nullable=False), "period": _c("x.period", "Edm.Date", False),
        "opened_at": _c("x.opened_at", "Edm.DateTimeOffset", False), "note": _c("x.note", nullable=False),
        "state": _c("x.state", nullable=False), "closed_at": _c("x.closed_at", "Edm.DateTimeOffset"),
        "closed_kind": _c("x.closed_kind"), "closed_by": _c("x.closed_by"), "close_note": _c("x.close_note")},
        ("shop_id", "run", "item")),
    "Maintenance": FeedSet("maintenance x", {
        **_SHOP_COLUMNS, "terminal": _c("x.terminal", nullable=False),
        "done_at": _c("x.done_at", "Edm.DateTimeOffset", False), "id": _c("x.id", nullable=False),
        "kind": _c("x.kind", nullable=False), "fields": _c("x.fields", nullable=False),
        "note": _c("x.note", nullable=False), "recorded_by": _c("x.recorded_by", nullable=False),
        "photos": _c("x.photos_count", "Edm.Int64", False)}, ("shop_id", "terminal", "done_at", "id")),
}
_OPS = {"eq": "=", "ne": "<>", "gt": ">", "lt": "<"}


def _feed_where(scope: Scope, feed: FeedSet, conditions: list[tuple[str, str, object]]) -> tuple[str, list]:
    """The scope and the $filter's conditions ((name, op, value), names and ops checked by the caller)."""
    sql, params = _in_scope(scope, "x.shop_id")
    params = list(params)
    for name, op, value in conditions:
        column = feed.columns[name].sql
        if value is None:
            sql += f" AND {column} IS {'NOT ' if op == 'ne' else ''}NULL"
        elif op == "ne":  # OData: ne also matches null, which SQL's <> does not
            sql += f" AND ({column} IS NULL OR {column} <> ?)"
            params.append(value)
        else:
            sql += f" AND {column} {_OPS[op]} ?"
            params.append(value)
    return sql, params


def feed_page(db: Database, scope: Scope, name: str, select: list[str], conditions: list[tuple[str, str, object]],
              after: list | None, skip: int, limit: int) -> list[dict]:
    """A page of an entity set in its key order, after the key `after`, as dicts of the selected names
    (the key's columns always included, for the next page)."""
    feed = FEED_SETS[name]
    names = list(dict.fromkeys([*select, *feed.key]))
    where, params = _feed_where(scope, feed, conditions)
    if after is not None:
        keys = ", ".join(feed.columns[k].sql for k in feed.key)
        where += f" AND ({keys}) > ({_marks(len(feed.key))})"
        params += list(after)
    order = ", ".join(feed.columns[k].sql for k in feed.key)
    rows = db.execute(
        f"SELECT {', '.join(feed.columns[n].sql for n in names)} FROM {feed.table} JOIN shops s ON s.id = x.shop_id "
        f"WHERE 1 = 1{where} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, skip])
    return [dict(zip(names, row, strict=True)) for row in rows]


def feed_count(db: Database, scope: Scope, name: str, conditions: list[tuple[str, str, object]]) -> int:
    feed = FEED_SETS[name]
    where, params = _feed_where(scope, feed, conditions)
    return db.execute(f"SELECT count(*) FROM {feed.table} JOIN shops s ON s.id = x.shop_id WHERE 1 = 1{where}",
                      params).fetchone()[0]
