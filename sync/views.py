"""The read views kept from the events: incidents, checklist_runs, maintenance (incident_steps is
an SQL view over the log, see server/db.py).

A batch's rows are gathered here and written with one executemany per statement, in the same
transaction as the events. An incident's counts and status are folded in Python first: an
incident opened in this batch is inserted with its children already counted, and an incident
held from before is updated once per batch, not once per child.

Events may arrive out of order (an incident.opened rejected for a missing photo while its steps
are stored): a child of an incident not yet held stays in the log only, and `catch_up` counts it
when the incident.opened arrives. The latest close (by the device's clock) sets the status,
whatever order the closes came in.
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


class _Tally:
    """What a batch adds to one incident: steps, photos, the last event's time, the latest close."""

    __slots__ = ("steps", "photos", "last_at", "close")

    def __init__(self):
        self.steps, self.photos, self.last_at, self.close = 0, 0, "", None

    def add(self, steps: int, photos: int, at: str) -> None:
        self.steps += steps
        self.photos += photos
        if at > self.last_at:
            self.last_at = at

    def closed(self, payload, at: str) -> None:
        if self.close is None or at >= self.close[0]:
            resolved = payload.step if payload.outcome == "resolved" else None
            escalated = payload.step if payload.outcome == "escalated" else None
            self.close = (at, payload.outcome, resolved, escalated, payload.support)


class Views:
    """The view rows of one batch of stored events for one shop."""

    def __init__(self, shop_id: int):
        self.shop_id = shop_id
        self.opened: dict[str, tuple] = {}
        self.tallies: dict[str, _Tally] = {}
        self.runs, self.logs = [], []

    def _tally(self, incident: str) -> _Tally:
        tally = self.tallies.get(incident)
        if tally is None:
            tally = self.tallies[incident] = _Tally()
        return tally

    def add(self, event, at: str, photos: int) -> str | None:
        """Take in one stored event; return the incident it belongs to, if any."""
        kind, p = type(event), event.payload
        if kind is IncidentOpened:
            self.opened[event.id] = (event.device, p.code, p.terminal, p.occurred_at, p.note, event.recorded_by,
                                     photos, at)
            return event.id
        if kind is IncidentStep:
            self._tally(p.incident).add(1, photos, at)
            return p.incident
        if kind is IncidentNoted or kind is IncidentClosed:
            tally = self._tally(p.incident)
            tally.add(0, photos, at)
            if kind is IncidentClosed:
                tally.closed(p, at)
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
        ids = _encoder.encode(list(self.opened))
        # "+shop_id" keeps the planner on the incident index (the shop's index would scan its whole
        # log); order does not matter: counts add up and the latest close wins in any order.
        rows = db.conn.execute(
            "SELECT body, at, photos FROM events WHERE incident IN (SELECT value FROM json_each(?)) "
            "AND +shop_id = ? AND type != 'incident.opened'",
            [ids, self.shop_id],
        )
        for body, at, photos in rows:
            event = event_decoder.decode(body)
            tally = self._tally(event.payload.incident)
            tally.add(int(type(event) is IncidentStep), photos, at)
            if type(event) is IncidentClosed:
                tally.closed(event.payload, at)

    def write(self, db: Database) -> None:
        """Insert and update the view rows."""
        conn, shop = db.conn, self.shop_id
        incidents = []
        for incident, (device, code, terminal, occurred_at, note, recorded_by, photos, at) in self.opened.items():
            tally = self.tallies.pop(incident, None) or _Tally()
            close = tally.close or (None, "open", None, None, None)
            incidents.append((
                incident, shop, device, code, terminal, iso(occurred_at), note, recorded_by, close[1], close[0],
                close[2], close[3], close[4], tally.steps, photos + tally.photos, max(at, tally.last_at),
            ))
        conn.executemany(
            "INSERT INTO incidents (id, shop_id, device, code, terminal, opened_at, note, recorded_by, status, "
            "closed_at, resolved_at_step, escalated_at_step, support, steps_count, photos_count, last_event_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            incidents,
        )
        # What is left belongs to incidents held from earlier pushes (or not held yet: then no row
        # matches, and catch_up counts these events when the incident.opened arrives).
        conn.executemany(
            "UPDATE incidents SET steps_count = steps_count + ?, photos_count = photos_count + ?, "
            "last_event_at = max(last_event_at, ?) WHERE id = ? AND shop_id = ?",
            [(t.steps, t.photos, t.last_at, incident, shop) for incident, t in self.tallies.items()],
        )
        conn.executemany(
            "UPDATE incidents SET status = ?, closed_at = ?, resolved_at_step = ?, escalated_at_step = ?, "
            "support = ? WHERE id = ? AND shop_id = ? AND (closed_at IS NULL OR closed_at <= ?)",
            [(c[1], c[0], c[2], c[3], c[4], incident, shop, c[0])
             for incident, t in self.tallies.items() if (c := t.close) is not None],
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
