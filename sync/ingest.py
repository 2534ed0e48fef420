"""Apply a pushed batch of events exactly once: the log, the conflicts, and the read views.

`decode_push()` turns a request body into the batch's raw events; `ingest()` decodes each one on
its own and answers stored / duplicate / conflict / rejected per event. The caller runs ingest()
inside one write transaction, so a batch is stored whole or (on any error) not at all.

Each stored event is kept as canonical JSON: decoded, the token's shop filled in, card numbers in
free text masked, and encoded again by msgspec, so the same event always gives the same bytes and
hash (sha256 of the body) however the device spelled it. The same id with the same hash is a
duplicate (a no-op); with another hash it is a conflict: the stored event is kept unchanged and
the other is noted in the conflicts table for head office.

The views (incidents, incident_steps, checklist_runs, maintenance) are kept in step from the
events. Events may arrive out of order (an incident.opened rejected for a missing photo, its steps
stored): a child of an incident not yet held is kept in the log and counted when the
incident.opened arrives.
"""

import hashlib
from datetime import UTC, datetime

import msgspec
from msgspec.structs import replace
from sqlite_utils import Database

from sync.pan import mask_pans
from sync.types import (
    EVENT_TYPES,
    MAX_BATCH,
    ChecklistCompleted,
    ChecklistCompletedPayload,
    EventResult,
    IncidentClosed,
    IncidentNoted,
    IncidentOpened,
    IncidentStep,
    MaintenanceLogged,
    MaintenanceLoggedPayload,
    PushRequest,
    event_decoder,
)

push_decoder = msgspec.json.Decoder(PushRequest)
_encoder = msgspec.json.Encoder()


class _Counted(msgspec.Struct):
    events: list[msgspec.Raw]


class _Named(msgspec.Struct):
    """What can still be read from an event too broken to decode: its id and type."""

    id: str | None = None
    type: str | None = None


_count_decoder = msgspec.json.Decoder(_Counted)
_named_decoder = msgspec.json.Decoder(_Named)


class BadPush(ValueError):
    """The push body as a whole is unusable; the message says why."""


class TooManyEvents(BadPush):
    """More events in one push than MAX_BATCH."""


def decode_push(body: bytes) -> list[msgspec.Raw]:
    """The raw events of a push body; BadPush (or TooManyEvents) naming the problem."""
    try:
        return push_decoder.decode(body).events
    except msgspec.ValidationError as exc:
        try:
            count = len(_count_decoder.decode(body).events)
        except msgspec.MsgspecError:
            count = 0
        if count > MAX_BATCH:
            raise TooManyEvents(
                f"events: {count} events in one push; the limit is {MAX_BATCH}, send the rest in another push"
            ) from None
        raise BadPush(f"body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadPush(f"body is not valid JSON: {exc}") from None


def ingest(db: Database, shop_id: int, pushed_by: str, raws: list[msgspec.Raw], received_at: str) -> list[EventResult]:
    """Store a batch for a shop (inside the caller's write transaction); one result per event."""
    results: list[EventResult | None] = [None] * len(raws)
    accepted = []  # (index, event, body, hash, named blobs)
    for i, raw in enumerate(raws):
        try:
            event = event_decoder.decode(raw)
        except msgspec.MsgspecError as exc:
            results[i] = _rejection(raw, exc)
            continue
        if event.shop is not None and event.shop != shop_id:
            results[i] = EventResult(id=event.id, status="rejected", reason=f"event belongs to shop {event.shop}")
            continue
        event = _clean(event, shop_id)
        body = _encoder.encode(event)
        accepted.append((i, event, body, hashlib.sha256(body).hexdigest(), _named_blobs(event)))
    if not accepted:
        return results

    conn = db.conn
    ids = _encoder.encode([a[1].id for a in accepted])
    held_events = dict(conn.execute("SELECT id, hash FROM events WHERE id IN (SELECT value FROM json_each(?))", [ids]))
    wanted = {sha for a in accepted for sha in a[4]}
    held_blobs = _held_blobs(conn, shop_id, wanted) if wanted else set()

    views = _Views(shop_id)
    event_rows, conflict_rows = [], []
    batch: dict[str, str] = {}
    for i, event, body, digest, named in accepted:
        known = held_events.get(event.id) or batch.get(event.id)
        if known is not None:
            if known == digest:
                results[i] = EventResult(id=event.id, status="duplicate")
            else:
                results[i] = EventResult(
                    id=event.id, status="conflict",
                    reason="an event with this id and other content is held; the held one is kept",
                )
                conflict_rows.append((event.id, shop_id, pushed_by, digest, body.decode(), received_at))
            continue
        missing = [sha for sha in named if sha not in held_blobs]
        if missing:
            results[i] = EventResult(
                id=event.id, status="rejected", reason="blobs not held: send them first", missing=missing
            )
            continue
        batch[event.id] = digest
        at = _iso(event.at)
        event_rows.append((
            event.id, event.__struct_config__.tag, shop_id, event.device, pushed_by, at, event.recorded_by,
            views.add(event, at, len(named)), len(named), body.decode(), digest, received_at,
        ))
        results[i] = EventResult(id=event.id, status="stored")

    views.catch_up(conn)  # reads the log before this batch joins it
    conn.executemany(
        "INSERT INTO events (id, type, shop_id, device, pushed_by, at, recorded_by, incident, photos, body, hash, "
        "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        event_rows,
    )
    if conflict_rows:
        conn.executemany(
            "INSERT OR IGNORE INTO conflicts (event_id, shop_id, pushed_by, hash, body, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            conflict_rows,
        )
    views.write(conn)
    return results


def _rejection(raw: msgspec.Raw, exc: msgspec.MsgspecError) -> EventResult:
    try:
        named = _named_decoder.decode(raw)
    except msgspec.MsgspecError:
        named = _Named()
    event_id = named.id if isinstance(named.id, str) else None
    if isinstance(exc, msgspec.ValidationError) and named.type is not None and named.type not in EVENT_TYPES:
        return EventResult(id=event_id, status="rejected", reason=f"unknown event type {named.type!r}")
    return EventResult(id=event_id, status="rejected", reason=str(exc))


def _held_blobs(conn, shop_id: int, shas: set[str]) -> set[str]:
    rows = conn.execute(
        "SELECT sha256 FROM blobs WHERE shop_id = ? AND sha256 IN (SELECT value FROM json_each(?))",
        [shop_id, _encoder.encode(sorted(shas))],
    )
    return {sha for (sha,) in rows}


def _named_blobs(event) -> list[str]:
    """Every blob the event names: its blobs list and, for a checklist, each item's photo."""
    named = list(event.blobs)
    if type(event) is ChecklistCompleted:
        for item in event.payload.items:
            if item.photo is not None and item.photo not in named:
                named.append(item.photo)
    return named


def _iso(moment: datetime) -> str:
    """A sortable text time: UTC with +00:00 (not Z, which sorts after fractional seconds)."""
    if moment.tzinfo is not None and moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat()


_TEXT_FIELDS = {
    IncidentOpened: ("terminal", "note"),
    IncidentStep: ("note",),
    IncidentNoted: ("note",),
    IncidentClosed: ("note",),
    ChecklistCompleted: ("signed_by",),
    MaintenanceLogged: ("terminal", "note"),
}


def _clean(event, shop_id: int):
    """The event with the token's shop filled in and card numbers masked in its free text."""
    payload = event.payload
    changes = {}
    for name in _TEXT_FIELDS[type(event)]:
        text = getattr(payload, name)
        masked = mask_pans(text)
        if masked != text:
            changes[name] = masked
    if type(payload) is ChecklistCompletedPayload:
        items = [_masked_item(item) for item in payload.items]
        if any(new is not old for new, old in zip(items, payload.items)):
            changes["items"] = items
    elif type(payload) is MaintenanceLoggedPayload and payload.fields:
        fields = {key: mask_pans(value) for key, value in payload.fields.items()}
        if fields != payload.fields:
            changes["fields"] = fields
    if changes:
        payload = replace(payload, **changes)
    return replace(event, shop=shop_id, payload=payload, recorded_by=mask_pans(event.recorded_by))


def _masked_item(item):
    masked = mask_pans(item.note)
    return item if masked == item.note else replace(item, note=masked)


class _Views:
    """The rows a batch adds to the read views, written with one executemany per statement."""

    def __init__(self, shop_id: int):
        self.shop_id = shop_id
        self.incidents, self.steps, self.bumps, self.closes, self.runs, self.logs = [], [], [], [], [], []

    def add(self, event, at: str, photos: int) -> str | None:
        """Queue the view rows for one stored event; return the incident it belongs to, if any."""
        kind, p, shop = type(event), event.payload, self.shop_id
        if kind is IncidentOpened:
            self.incidents.append((
                event.id, shop, event.device, p.code, p.terminal, _iso(p.occurred_at), p.note, event.recorded_by,
                photos, at,
            ))
            return event.id
        if kind is IncidentStep:
            self.steps.append((event.id, p.incident, shop, p.flow, p.step, p.answer, p.note, at, event.recorded_by, photos))
            self.bumps.append((1, photos, at, p.incident, shop))
            return p.incident
        if kind is IncidentNoted:
            self.bumps.append((0, photos, at, p.incident, shop))
            return p.incident
        if kind is IncidentClosed:
            self.bumps.append((0, photos, at, p.incident, shop))
            self._close(p, at)
            return p.incident
        if kind is ChecklistCompleted:
            problems = sum(1 for item in p.items if item.result == "problem")
            self.runs.append((
                event.id, shop, event.device, p.checklist, p.period.isoformat(), p.signed_by, at,
                len(p.items), problems, photos,
            ))
            return None
        self.logs.append((
            event.id, shop, event.device, p.terminal, p.kind, _iso(p.done_at), _encoder.encode(p.fields).decode(),
            p.note, event.recorded_by, photos,
        ))
        return None

    def _close(self, p, at: str) -> None:
        resolved = p.step if p.outcome == "resolved" else None
        escalated = p.step if p.outcome == "escalated" else None
        self.closes.append((p.outcome, at, resolved, escalated, p.support, p.incident, self.shop_id, at))

    def catch_up(self, conn) -> None:
        """Count the children held from earlier pushes of the incidents this batch opens."""
        if not self.incidents:
            return
        ids = _encoder.encode([row[0] for row in self.incidents])
        rows = conn.execute(
            "SELECT body, at, photos FROM events WHERE incident IN (SELECT value FROM json_each(?)) "
            "AND shop_id = ? AND type != 'incident.opened' ORDER BY seq",
            [ids, self.shop_id],
        ).fetchall()
        for body, at, photos in rows:
            event = event_decoder.decode(body)
            self.bumps.append((int(type(event) is IncidentStep), photos, at, event.payload.incident, self.shop_id))
            if type(event) is IncidentClosed:
                self._close(event.payload, at)

    def write(self, conn) -> None:
        """Insert and update the view rows; the opened incidents first, so later rows find them."""
        conn.executemany(
            "INSERT INTO incidents (id, shop_id, device, code, terminal, opened_at, note, recorded_by, status, "
            "steps_count, photos_count, last_event_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', 0, ?, ?)",
            self.incidents,
        )
        conn.executemany(
            "INSERT INTO incident_steps (id, incident, shop_id, flow, step, answer, note, at, recorded_by, "
            "photos_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.steps,
        )
        conn.executemany(
            "UPDATE incidents SET steps_count = steps_count + ?, photos_count = photos_count + ?, "
            "last_event_at = max(last_event_at, ?) WHERE id = ? AND shop_id = ?",
            self.bumps,
        )
        # The latest close (by the device's clock) decides the status, whatever order they came in.
        conn.executemany(
            "UPDATE incidents SET status = ?, closed_at = ?, resolved_at_step = ?, escalated_at_step = ?, "
            "support = ? WHERE id = ? AND shop_id = ? AND (closed_at IS NULL OR closed_at <= ?)",
            self.closes,
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
