"""Apply a pushed batch of events exactly once: the log, the conflicts, and the read views.

`decode_push()` turns a request body into the batch's raw events; `ingest()` decodes each one on
its own and answers stored / duplicate / conflict / rejected per event. The caller runs ingest()
inside one write transaction, so a batch is stored whole or (on any error) not at all.

Each stored event is kept as canonical JSON: decoded, the token's shop filled in, card numbers in
free text masked, and encoded again by msgspec, so the same event always gives the same bytes and
hash (sha256 of the body) however the device spelled it. The same id with the same hash is a
duplicate (a no-op); with another hash it is a conflict: the stored event is kept unchanged and
the other is noted in the conflicts table for head office.

The read views are kept in step in the same transaction (see sync/views.py). Per event the work
is one typed decode, one encode and one hash; the database sees one query for the ids already
held, one for the blobs named, and one executemany per table.
"""

from hashlib import sha256

import msgspec
from msgspec.structs import replace
from sqlite_utils import Database

from sync.errors import BadRequest, TooLarge
from sync.pan import MIN_DIGITS, mask_pans
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
from sync.views import Views, iso, placeholders

push_decoder = msgspec.json.Decoder(PushRequest)
_encoder = msgspec.json.Encoder()


class _Counted(msgspec.Struct):
    events: list[msgspec.Raw]


class _Named(msgspec.Struct):
    """What can still be read from an event too broken to decode: its id and type."""

    id: str | None = None
    type: str | None = None


_TAGS = {cls: tag for tag, cls in EVENT_TYPES.items()}
_count_decoder = msgspec.json.Decoder(_Counted)
_named_decoder = msgspec.json.Decoder(_Named)


def decode_push(body: bytes) -> list[msgspec.Raw]:
    """The raw events of a push body; BadRequest naming the problem, TooLarge over MAX_BATCH events."""
    try:
        return push_decoder.decode(body).events
    except msgspec.ValidationError as exc:
        try:
            count = len(_count_decoder.decode(body).events)
        except msgspec.MsgspecError:
            count = 0
        if count > MAX_BATCH:
            raise TooLarge(
                f"events: {count} events in one push; the limit is {MAX_BATCH}, send the rest in another push"
            ) from None
        raise BadRequest(f"body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None


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
        named = named_blobs(event)
        accepted.append((i, event, body, sha256(body).hexdigest(), named))
    if not accepted:
        return results

    conn = db.conn
    ids = [a[1].id for a in accepted]
    held_events = dict(conn.execute(f"SELECT id, hash FROM events WHERE id IN ({placeholders(len(ids))})", ids))
    wanted = sorted({sha for a in accepted for sha in a[4]})
    held_blobs = _held_blobs(conn, shop_id, wanted) if wanted else set()

    views = Views(shop_id)
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
        missing = named and [sha for sha in named if sha not in held_blobs]
        if missing:
            results[i] = EventResult(
                id=event.id, status="rejected", reason="blobs not held: send them first", missing=missing
            )
            continue
        batch[event.id] = digest
        at = iso(event.at)
        event_rows.append((
            event.id, _TAGS[type(event)], shop_id, event.device, pushed_by, at, event.recorded_by,
            views.add(event, at, len(named)), len(named), body.decode(), digest, received_at,
        ))
        results[i] = EventResult(id=event.id, status="stored")

    views.catch_up(db)  # reads the log before this batch joins it
    conn.executemany(
        "INSERT INTO events (id, type, shop_id, device, pushed_by, at, recorded_by, incident, photos, body, hash, "
        "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        event_rows,
    )
    if conflict_rows:
        conn.executemany(
            "INSERT INTO conflicts (event_id, shop_id, pushed_by, hash, body, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            conflict_rows,
        )
    views.write(db)
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


def _held_blobs(conn, shop_id: int, shas: list[str]) -> set[str]:
    rows = conn.execute(
        f"SELECT sha256 FROM blobs WHERE shop_id = ? AND sha256 IN ({placeholders(len(shas))})", [shop_id, *shas]
    )
    return {sha for (sha,) in rows}


def named_blobs(event) -> list[str]:
    """Every blob an event names: its blobs list and, for a checklist run, each item's photo."""
    if type(event) is not ChecklistCompleted:
        return event.blobs
    named = list(event.blobs)
    for item in event.payload.items:
        if item.photo is not None and item.photo not in named:
            named.append(item.photo)
    return named


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
        if len(text) >= MIN_DIGITS:  # shorter text cannot hold a card number: skip the call
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
