"""The read views kept from the events: incidents, incident_steps, checklist_runs, maintenance, actions.

A batch's rows are gathered here and written with one executemany per statement, in the same
transaction as the events. An incident's counts and status are folded in Python first: an
incident opened in this batch is inserted with its children already counted, and an incident
held from before is updated once per batch, not once per child.

Events may arrive out of order (an incident.opened rejected for a missing photo while its steps
are stored): a child of an incident not yet held stays in the log only, and `catch_up` counts it
when the incident.opened arrives.

Which close decides an incident: the latest by the device's clock, and of two at the same
instant the later-made (greater UUIDv7 id), whatever order they arrive in. The phone folds its
events by the same rule (pwa/static/js/incidents.js; tests/cases/incident_close.json holds the
cases both are tested against). An incident's transaction (told when it opened, or later) is
decided by the same rule.

Corrective actions (see `Actions`): every checklist item answered "problem" opens one; the first
thing after it (by the phones' clocks) that puts it right closes it: a run of the same shop that
finds the item ok, or a maintenance entry of the kind the content names for the item (the table
item_maintenance, written from the content at start-up). A batch's own runs and entries are
matched in Python; the log is read only for a problem older than what is held already (synced
late), and then only the few runs and entries after it.
"""

import bisect
from datetime import UTC

import msgspec
from sqlite_utils import Database

from sync.types import (
    ChecklistCompleted,
    IncidentClosed,
    IncidentNoted,
    IncidentOpened,
    IncidentStep,
    IncidentTransaction,
    MaintenanceLogged,
    event_decoder,
)

_encoder = msgspec.json.Encoder()


def close_key(at: str, event_id: str) -> tuple[str, str]:
    """What orders two closes of one incident: the UTC time text (see `iso`), then the event id."""
    return (at, event_id)


def placeholders(count: int) -> str:
    """`?, ?, …` for an IN list: portable SQL, where SQLite's json_each would not be."""
    return ", ".join("?" * count)


def transaction_columns(transaction, at: str, event_id: str) -> dict:
    """The incidents columns of a transaction (format 2): filters, the amount for bands, the whole."""
    return {
        "tx_kind": transaction.kind, "tx_entry": transaction.entry, "tx_charged": transaction.charged,
        "tx_amount": float(transaction.amount) if transaction.amount else None, "tx_currency": transaction.currency,
        "tx": _encoder.encode(transaction).decode(), "tx_at": at, "tx_by": event_id,
    }


_NO_TRANSACTION = dict.fromkeys(("tx_kind", "tx_entry", "tx_charged", "tx_amount", "tx_currency", "tx", "tx_at",
                                 "tx_by"))


class _Tally:
    """What a batch adds to one incident: steps, photos, the last event's time, the deciding close
    and the deciding transaction."""

    __slots__ = ("steps", "photos", "last_at", "close_key", "close", "tx_key", "tx")

    def __init__(self):
        self.steps, self.photos, self.last_at, self.close_key, self.close = 0, 0, "", None, None
        self.tx_key, self.tx = None, None

    def transaction(self, event_id: str, transaction, at: str) -> None:
        key = close_key(at, event_id)
        if self.tx_key is None or key > self.tx_key:
            self.tx_key, self.tx = key, transaction_columns(transaction, at, event_id)

    def add(self, steps: int, photos: int, at: str) -> None:
        self.steps += steps
        self.photos += photos
        if at > self.last_at:
            self.last_at = at

    def closed(self, event_id: str, payload, at: str) -> None:
        key = close_key(at, event_id)
        if self.close_key is None or key > self.close_key:
            self.close_key = key
            self.close = {
                "status": payload.outcome,
                "closed_at": at,
                "closed_by": event_id,
                "resolved_at_step": payload.step if payload.outcome == "resolved" else None,
                "escalated_at_step": payload.step if payload.outcome == "escalated" else None,
                "support": payload.support,
            }


_CLOSE = ("status", "closed_at", "closed_by", "resolved_at_step", "escalated_at_step", "support")
_TX = ("tx_kind", "tx_entry", "tx_charged", "tx_amount", "tx_currency", "tx", "tx_at", "tx_by")
_OPEN = {"status": "open", "closed_at": None, "closed_by": None, "resolved_at_step": None,
         "escalated_at_step": None, "support": None}


class Views:
    """The view rows of one batch of stored events for one shop."""

    def __init__(self, shop_id: int):
        self.shop_id = shop_id
        self.opened: dict[str, dict] = {}
        self.tallies: dict[str, _Tally] = {}
        self.steps, self.runs, self.logs = [], [], []
        self.actions = Actions()

    def _tally(self, incident: str) -> _Tally:
        tally = self.tallies.get(incident)
        if tally is None:
            tally = self.tallies[incident] = _Tally()
        return tally

    def add(self, event, at: str, photos: int) -> str | None:
        """Take in one stored event; return the incident it belongs to, if any."""
        kind, p = type(event), event.payload
        if kind is IncidentOpened:
            self.opened[event.id] = {
                "id": event.id, "shop_id": self.shop_id, "device": event.device, "code": p.code,
                "terminal": p.terminal, "opened_at": iso(p.occurred_at), "note": p.note,
                "recorded_by": event.recorded_by, "photos_count": photos, "last_event_at": at,
            }
            if p.transaction:
                self._tally(event.id).transaction(event.id, p.transaction, at)
            return event.id
        if kind is IncidentTransaction:
            tally = self._tally(p.incident)
            tally.add(0, photos, at)
            tally.transaction(event.id, p.transaction, at)
            return p.incident
        if kind is IncidentStep:
            self._tally(p.incident).add(1, photos, at)
            self.steps.append((p.incident, at, event.id, self.shop_id, p.flow, p.step, p.answer, p.note,
                               event.recorded_by, photos))
            return p.incident
        if kind is IncidentNoted or kind is IncidentClosed:
            tally = self._tally(p.incident)
            tally.add(0, photos, at)
            if kind is IncidentClosed:
                tally.closed(event.id, p, at)
            return p.incident
        if kind is ChecklistCompleted:
            problems = sum(1 for item in p.items if item.result == "problem")
            self.runs.append((event.id, self.shop_id, event.device, p.checklist, p.period.isoformat(), p.signed_by,
                              at, len(p.items), problems, photos))
            self.actions.add_run(event.id, p, at)
            return None
        if kind is MaintenanceLogged:
            done_at = iso(p.done_at)
            self.logs.append((event.id, self.shop_id, event.device, p.terminal, p.kind, done_at,
                              _encoder.encode(p.fields).decode(), p.note, event.recorded_by, photos))
            self.actions.add_maintenance(event.id, p.kind, done_at)
        return None

    def catch_up(self, db: Database) -> None:
        """Count the children held from earlier pushes of the incidents this batch opens (call before
        this batch's events are inserted)."""
        if not self.opened:
            return
        ids = list(self.opened)
        # "+shop_id" keeps the planner on the incident index (the shop's index would scan its whole
        # log); order does not matter: counts add up and the deciding close is the greatest key.
        rows = db.execute(
            f"SELECT body, at, photos FROM events WHERE incident IN ({placeholders(len(ids))}) "
            "AND +shop_id = ? AND type <> 'incident.opened'",
            [*ids, self.shop_id],
        )
        for body, at, photos in rows:
            event = event_decoder.decode(body)
            tally = self._tally(event.payload.incident)
            tally.add(int(type(event) is IncidentStep), photos, at)
            if type(event) is IncidentClosed:
                tally.closed(event.id, event.payload, at)
            elif type(event) is IncidentTransaction:
                tally.transaction(event.id, event.payload.transaction, at)

    def write(self, db: Database) -> None:
        """Insert and update the view rows."""
        conn, shop = db.conn, self.shop_id
        incidents = []
        for incident, row in self.opened.items():
            tally = self.tallies.pop(incident, None) or _Tally()
            close, tx = tally.close or _OPEN, tally.tx or _NO_TRANSACTION
            # Positional, not named: binding 25 names a row cost some 0.5 µs an event (measured).
            incidents.append((
                row["id"], row["shop_id"], row["device"], row["code"], row["terminal"], row["opened_at"], row["note"],
                row["recorded_by"], *(close[name] for name in _CLOSE), tally.steps,
                row["photos_count"] + tally.photos, max(row["last_event_at"], tally.last_at),
                *(tx[name] for name in _TX),
            ))
        conn.executemany(
            "INSERT INTO incidents (id, shop_id, device, code, terminal, opened_at, note, recorded_by, status, "
            "closed_at, closed_by, resolved_at_step, escalated_at_step, support, steps_count, photos_count, "
            "last_event_at, tx_kind, tx_entry, tx_charged, tx_amount, tx_currency, tx, tx_at, tx_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            incidents,
        )
        # What is left belongs to incidents held from earlier pushes (or not held yet: then no row
        # matches, and catch_up counts these events when the incident.opened arrives).
        conn.executemany(
            "UPDATE incidents SET steps_count = steps_count + ?, photos_count = photos_count + ?, "
            "last_event_at = CASE WHEN last_event_at < ? THEN ? ELSE last_event_at END "
            "WHERE id = ? AND shop_id = ?",
            [(t.steps, t.photos, t.last_at, t.last_at, incident, shop) for incident, t in self.tallies.items()],
        )
        conn.executemany(
            "UPDATE incidents SET status = :status, closed_at = :closed_at, closed_by = :closed_by, "
            "resolved_at_step = :resolved_at_step, escalated_at_step = :escalated_at_step, support = :support "
            "WHERE id = :id AND shop_id = :shop_id AND (closed_at IS NULL OR closed_at < :closed_at "
            "OR (closed_at = :closed_at AND closed_by < :closed_by))",
            [{**t.close, "id": incident, "shop_id": shop} for incident, t in self.tallies.items() if t.close],
        )
        conn.executemany(
            "UPDATE incidents SET tx_kind = :tx_kind, tx_entry = :tx_entry, tx_charged = :tx_charged, "
            "tx_amount = :tx_amount, tx_currency = :tx_currency, tx = :tx, tx_at = :tx_at, tx_by = :tx_by "
            "WHERE id = :id AND shop_id = :shop_id AND (tx_at IS NULL OR tx_at < :tx_at "
            "OR (tx_at = :tx_at AND tx_by < :tx_by))",
            [{**t.tx, "id": incident, "shop_id": shop} for incident, t in self.tallies.items() if t.tx],
        )
        conn.executemany(
            "INSERT INTO incident_steps (incident, at, id, shop_id, flow, step, answer, note, recorded_by, "
            "photos_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.steps,
        )
        conn.executemany(
            "INSERT INTO checklist_runs (id, shop_id, device, checklist, period, signed_by, completed_at, "
            "items_count, problems_count, photos_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.runs,
        )
        conn.executemany(
            "INSERT INTO maintenance (id, shop_id, device, terminal, kind, done_at, fields, note, recorded_by, "
            "photos_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.logs,
        )
        self.actions.write(db, shop)


class Actions:
    """The corrective actions a batch opens, and those it closes (see the module's docstring)."""

    __slots__ = ("runs", "entries")

    def __init__(self):
        self.runs: list[tuple] = []  # (completed_at, run id, checklist, period, items)
        self.entries: list[tuple[str, str, str]] = []  # (done_at, entry id, kind)

    def add_run(self, run_id: str, payload, at: str) -> None:
        self.runs.append((at, run_id, payload.checklist, payload.period.isoformat(), payload.items))

    def add_maintenance(self, entry_id: str, kind: str, done_at: str) -> None:
        self.entries.append((done_at, entry_id, kind))

    def write(self, db: Database, shop: int, held_runs: bool = True) -> None:
        """Insert the batch's actions, closed already if something later is known; close held ones.
        `held_runs=False` (a migration replaying a shop's every run) looks nothing up in the log."""
        if not self.runs and not self.entries:
            return
        conn = db.conn
        kinds = {(c, i): k for c, i, k in conn.execute("SELECT checklist, item, kind FROM item_maintenance")}
        oks: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (checklist, item) -> [(at, run)], in time order
        fixes: dict[str, list[tuple[str, str]]] = {}  # maintenance kind -> [(done_at, entry)]
        new, batch = [], set()
        for at, run, checklist, period, items in sorted(self.runs, key=lambda r: (r[0], r[1])):
            batch.add(run)
            for item in items:
                if item.result == "ok":
                    oks.setdefault((checklist, item.item), []).append((at, run))
                elif item.result == "problem":
                    photos = getattr(item, "photos", None)  # format 2 keeps up to five: the action shows the first
                    new.append([shop, run, item.item, checklist, period, at, item.note,
                                item.photo or (photos[0] if photos else None)])
        for done_at, entry, kind in sorted(self.entries):
            fixes.setdefault(kind, []).append((done_at, entry))

        def first_after(checklist: str, item: str, opened_at: str) -> tuple[str, str, str] | None:
            found = None
            later = oks.get((checklist, item), ())
            n = bisect.bisect_right(later, (opened_at, "\uffff"))
            if n < len(later):
                found = (later[n][0], "run", later[n][1])
            kind = kinds.get((checklist, item))
            later = fixes.get(kind, ()) if kind else ()
            n = bisect.bisect_right(later, (opened_at, "\uffff"))
            if n < len(later) and (found is None or later[n][0] < found[0]):
                found = (later[n][0], "maintenance", later[n][1])
            return found

        held_open = conn.execute(
            "SELECT run, item, checklist, opened_at FROM actions WHERE shop_id = ? AND state = 'open'", [shop]
        ).fetchall() if (oks or fixes) and held_runs else []
        rows = []
        late = held_runs and _anything_later(conn, shop, new, kinds, batch, {e[1] for e in self.entries})
        for values in new:
            _, run, item, checklist, period, opened_at = values[:6]
            closer = first_after(checklist, item, opened_at)
            if late:
                held = _held_closer(conn, shop, checklist, item, period, opened_at, kinds.get((checklist, item)),
                                    batch)
                if held and (closer is None or held[0] < closer[0]):
                    closer = held
            rows.append((*values, "closed", *closer) if closer else (*values, "open", None, None, None))
        conn.executemany(
            "INSERT INTO actions (shop_id, run, item, checklist, period, opened_at, note, photo, state, closed_at, "
            "closed_kind, closed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            rows,
        )
        closing = []
        for run, item, checklist, opened_at in held_open:
            closer = first_after(checklist, item, opened_at)
            if closer:
                closing.append((*closer, shop, run, item))
        conn.executemany(
            "UPDATE actions SET state = 'closed', closed_at = ?, closed_kind = ?, closed_by = ? "
            "WHERE shop_id = ? AND run = ? AND item = ? AND state = 'open'",
            closing,
        )


def _anything_later(conn, shop: int, new: list, kinds: dict, runs: set[str], entries: set[str]) -> bool:
    """Whether the log held before this batch has a run or a maintenance entry done after the batch's
    oldest problem: two small reads a batch, so only a problem synced late looks further."""
    if not new:
        return False
    oldest = min(values[5] for values in new)
    for checklist in {values[3] for values in new}:
        period = min(values[4] for values in new if values[3] == checklist)
        for (run,) in conn.execute("SELECT id FROM checklist_runs WHERE shop_id = ? AND checklist = ? AND period >= ? "
                                   "AND completed_at > ?", [shop, checklist, period, oldest]):
            if run not in runs:
                return True
    wanted = sorted({kinds[values[3], values[2]] for values in new if (values[3], values[2]) in kinds})
    for kind in wanted:
        for (entry,) in conn.execute("SELECT id FROM maintenance WHERE shop_id = ? AND kind = ? AND done_at > ?",
                                     [shop, kind, oldest]):
            if entry not in entries:
                return True
    return False


def _held_closer(conn, shop: int, checklist: str, item: str, period: str, opened_at: str, kind: str | None,
                 batch: set[str]) -> tuple[str, str, str] | None:
    """What the log holds already that closes a problem synced late: the first later run of the
    shop with the item ok (runs of its period or later), or maintenance of the item's kind."""
    found = None
    for run, at, body in conn.execute(
        "SELECT r.id, r.completed_at, e.body FROM checklist_runs r JOIN events e ON e.shop_id = r.shop_id "
        "AND e.id = r.id WHERE r.shop_id = ? AND r.checklist = ? AND r.period >= ? AND r.completed_at > ? "
        "ORDER BY r.completed_at, r.id", [shop, checklist, period, opened_at]):
        if run in batch:
            continue
        if any(i.item == item and i.result == "ok" for i in event_decoder.decode(body).payload.items):
            found = (at, "run", run)
            break
    if kind:
        row = conn.execute("SELECT done_at, id FROM maintenance WHERE shop_id = ? AND kind = ? AND done_at > ? "
                           "ORDER BY done_at LIMIT 1", [shop, kind, opened_at]).fetchone()
        if row and (found is None or row[0] < found[0]):
            found = (row[0], "maintenance", row[1])
    return found


def iso(moment) -> str:
    """A sortable text time: UTC with +00:00 (not Z, which sorts after fractional seconds)."""
    # msgspec writes a datetime ten times faster than isoformat(), in the same RFC 3339 form.
    tz = moment.tzinfo
    if tz is not UTC:
        if tz is None:
            return _encoder.encode(moment)[1:-1].decode()
        moment = moment.astimezone(UTC)
    return _encoder.encode(moment)[1:-2].decode() + "+00:00"
