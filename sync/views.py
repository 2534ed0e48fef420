"""The read views kept from the events: incidents, incident_steps, checklist_runs, maintenance.

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
cases both are tested against).
"""

from datetime import UTC

import msgspec
from sqlite_utils import Database

from sync.types import (
    ChecklistCompleted,
    IncidentClosed,
    IncidentNoted,
    IncidentOpened,
    IncidentStep,
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


class _Tally:
    """What a batch adds to one incident: steps, photos, the last event's time, the deciding close."""

    __slots__ = ("steps", "photos", "last_at", "close_key", "close")

    def __init__(self):
        self.steps, self.photos, self.last_at, self.close_key, self.close = 0, 0, "", None, None

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


_OPEN = {"status": "open", "closed_at": None, "closed_by": None, "resolved_at_step": None,
         "escalated_at_step": None, "support": None}


class Views:
    """The view rows of one batch of stored events for one shop."""

    def __init__(self, shop_id: int):
        self.shop_id = shop_id
        self.opened: dict[str, dict] = {}
        self.tallies: dict[str, _Tally] = {}
        self.steps, self.runs, self.logs = [], [], []

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
            return event.id
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
            return None
        if kind is MaintenanceLogged:
            self.logs.append((event.id, self.shop_id, event.device, p.terminal, p.kind, iso(p.done_at),
                              _encoder.encode(p.fields).decode(), p.note, event.recorded_by, photos))
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

    def write(self, db: Database) -> None:
        """Insert and update the view rows."""
        conn, shop = db.conn, self.shop_id
        incidents = []
        for incident, row in self.opened.items():
            tally = self.tallies.pop(incident, None) or _Tally()
            incidents.append({
                **row, **(tally.close or _OPEN), "steps_count": tally.steps,
                "photos_count": row["photos_count"] + tally.photos,
                "last_event_at": max(row["last_event_at"], tally.last_at),
            })
        conn.executemany(
            "INSERT INTO incidents (id, shop_id, device, code, terminal, opened_at, note, recorded_by, status, "
            "closed_at, closed_by, resolved_at_step, escalated_at_step, support, steps_count, photos_count, "
            "last_event_at) VALUES (:id, :shop_id, :device, :code, :terminal, :opened_at, :note, :recorded_by, "
            ":status, :closed_at, :closed_by, :resolved_at_step, :escalated_at_step, :support, :steps_count, "
            ":photos_count, :last_event_at)",
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


def iso(moment) -> str:
    """A sortable text time: UTC with +00:00 (not Z, which sorts after fractional seconds)."""
    # msgspec writes a datetime ten times faster than isoformat(), in the same RFC 3339 form.
    tz = moment.tzinfo
    if tz is not UTC:
        if tz is None:
            return _encoder.encode(moment)[1:-1].decode()
        moment = moment.astimezone(UTC)
    return _encoder.encode(moment)[1:-2].decode() + "+00:00"
