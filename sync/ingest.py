"""Apply a pushed batch of events exactly once: the log, the conflicts, and the read views.

`decode_push()` turns a request body into the batch's raw events; `ingest()` decodes each one on
its own and answers stored / duplicate / conflict / rejected per event. The caller runs ingest()
inside one write transaction, so a batch is stored whole or (on any error) not at all.

Who may push what: a phone only its own events (an event's `device` is the pushing device); a
hub also those of its shop's phones, which head office does not know, but never of a device
enrolled in another shop. Event ids are the devices' names for their records and are unique
within a shop: one shop can neither pre-empt nor learn of another's.

Each stored event is kept as canonical JSON: decoded, the token's shop filled in, every string a
person typed or chose masked for card numbers (sync/pan.py; names, notes, codes, field names,
and a number split between two of them), and encoded again by msgspec, so the same event always
gives the same bytes and hash (sha256 of the body) however the device spelled it. The same id
with the same hash is a duplicate (a no-op); with another hash it is a conflict: the stored event
is kept unchanged and the other is noted in the conflicts table for head office, up to a cap
per device so that a broken or hostile device cannot fill the disk with them.

The read views are kept in step in the same transaction (see sync/views.py). Per event the work
is one typed decode, one encode and one hash; the database sees one query for the ids already
held, one for the blobs named, and one executemany per table.
"""

from datetime import datetime
from hashlib import sha256

import msgspec
from msgspec.structs import replace
from sqlite_utils import Database

from sync.errors import BadRequest, TooLarge
from sync.pan import mask_fields, may_hold_pan
from sync.types import (
    EVENT_TYPES,
    FORMATS,
    MAX_BATCH,
    ChecklistCompleted,
    Event,
    EventResult,
    IncidentClosed,
    IncidentNoted,
    IncidentOpened,
    IncidentStep,
    IncidentTransaction,
    MaintenanceLogged,
    PushRequest,
    event_decoder,
    format_needed,
)
from sync.views import Views, iso, placeholders

push_decoder = msgspec.json.Decoder(PushRequest)
_encoder = msgspec.json.Encoder()
MAX_CONFLICTS = 1000  # kept per pushing device; past that a conflict is answered but not kept
# Device clocks are wrong often enough (a phone back at 1970 after its battery died): any year a
# clock can show is taken; only what cannot be a time at all (year 1 or 9999 once moved to UTC)
# is refused.
EARLIEST, LATEST = datetime(1900, 1, 1), datetime(3000, 1, 1)


class _Counted(msgspec.Struct):
    events: list[msgspec.Raw]


class _Named(msgspec.Struct):
    """What can still be read from an event too broken to decode: its id, type and format."""

    id: str | None = None
    type: str | None = None
    v: int | None = None


_TAGS = {cls: tag for tag, cls in EVENT_TYPES.items()}
_count_decoder = msgspec.json.Decoder(_Counted)
_named_decoder = msgspec.json.Decoder(_Named)


def decode_push(body: bytes) -> list[msgspec.Raw]:
    """The raw events of a push body; BadRequest naming the problem, TooLarge over MAX_BATCH events."""
    try:
        return push_decoder.decode(body).events
    except RecursionError:
        raise BadRequest("body: JSON nested too deeply") from None
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


def ingest(
    db: Database, shop_id: int, pushed_by: str, raws: list[msgspec.Raw], received_at: str, *, hub: bool = False,
    newest: int = FORMATS[-1],
) -> list[EventResult]:
    """Store a batch for a shop (inside the caller's write transaction); one result per event.

    `pushed_by` is the pushing device; `hub` says it may push for the other devices of its shop;
    `newest` is the newest event format this server accepts (older ones always are).
    """
    results: list[EventResult | None] = [None] * len(raws)
    decoded = []  # (index, event)
    for i, raw in enumerate(raws):
        try:
            event = event_decoder.decode(raw)
        except (msgspec.MsgspecError, RecursionError) as exc:
            results[i] = _rejection(raw, exc, newest)
            continue
        refusal = _refusal(event, shop_id, pushed_by, hub, newest)
        if refusal:
            results[i] = EventResult(id=event.id, status="rejected", reason=refusal)
            continue
        decoded.append((i, event))
    if hub:
        decoded = _without_strangers(db, shop_id, decoded, results)
    accepted = []  # (index, event, body, hash, named blobs)
    for i, event in decoded:
        event = _clean(event, shop_id)
        body = _encoder.encode(event)
        accepted.append((i, event, body, sha256(body).hexdigest(), named_blobs(event)))
    if not accepted:
        return results

    conn = db.conn
    ids = [a[1].id for a in accepted]
    held_events = dict(conn.execute(
        f"SELECT id, hash FROM events WHERE shop_id = ? AND id IN ({placeholders(len(ids))})", [shop_id, *ids]))
    wanted = sorted({sha for a in accepted for sha in a[4]})
    held_blobs = _held_blobs(conn, shop_id, wanted) if wanted else set()

    views = Views(shop_id)
    event_rows, conflict_rows = [], []
    batch: dict[str, str] = {}
    for i, event, body, digest, named in accepted:
        known = held_events.get(event.id) or batch.get(event.id)
        if known is not None and known != digest and event.id in held_events:
            known = _recanonical(conn, shop_id, event.id, known)
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
        _keep_conflicts(conn, shop_id, pushed_by, conflict_rows)
    views.write(db)
    return results


def _recanonical(conn, shop_id: int, event_id: str, held_hash: str) -> str:
    """The hash of a held event as this version would store it: a body kept before a format change
    (a field added since) is the same event as its replay, not a conflict with it."""
    (body,) = conn.execute("SELECT body FROM events WHERE shop_id = ? AND id = ?", [shop_id, event_id]).fetchone()
    try:
        return sha256(_encoder.encode(event_decoder.decode(body))).hexdigest()
    except msgspec.MsgspecError:
        return held_hash


def _too_new(version: int, newest: int) -> str:
    return (f"v: format {version} is newer than this server accepts ({FORMATS[0]} to {newest}); the device keeps "
            "the event and sends it once the server is upgraded")


def _refusal(event, shop_id: int, pushed_by: str, hub: bool, newest: int) -> str | None:
    """Why this event may not be stored for this shop and pusher, or None."""
    if event.v > newest:
        return _too_new(event.v, newest)
    if format_needed(event) > event.v:
        return f"v: the event holds what format {format_needed(event)} added but says it is format {event.v}"
    if event.shop is not None and event.shop != shop_id:
        return f"shop: the event belongs to shop {event.shop}"
    if not hub and event.device != pushed_by:
        return f"device: the event is device {event.device}'s; a phone pushes only its own events"
    for name, moment in _times(event):
        # Within these years a time always moves to UTC (only years 1 and 9999 can overflow).
        if not EARLIEST.year <= moment.year < LATEST.year:
            return f"{name}: {moment.isoformat()} is not a time this server can keep (years 1900 to 3000)"
    return None


def _times(event) -> list[tuple[str, datetime]]:
    times = [("at", event.at)]
    if type(event) is IncidentOpened:
        times.append(("payload.occurred_at", event.payload.occurred_at))
    elif type(event) is MaintenanceLogged:
        times.append(("payload.done_at", event.payload.done_at))
    return times


def _without_strangers(db: Database, shop_id: int, decoded: list, results: list) -> list:
    """A hub's events, less those of devices enrolled in another shop (those it may not speak for)."""
    devices = sorted({event.device for _, event in decoded})
    if not devices:
        return decoded
    strangers = {device for (device,) in db.execute(
        f"SELECT id FROM devices WHERE shop_id <> ? AND id IN ({placeholders(len(devices))})", [shop_id, *devices])}
    kept = []
    for i, event in decoded:
        if event.device in strangers:
            results[i] = EventResult(id=event.id, status="rejected",
                                     reason=f"device: {event.device} is enrolled in another shop")
        else:
            kept.append((i, event))
    return kept


def _keep_conflicts(conn, shop_id: int, pushed_by: str, rows: list[tuple]) -> None:
    held = conn.execute("SELECT count(*) FROM conflicts WHERE shop_id = ? AND pushed_by = ?",
                        [shop_id, pushed_by]).fetchone()[0]
    conn.executemany(
        "INSERT INTO conflicts (event_id, shop_id, pushed_by, hash, body, received_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        rows[:max(0, MAX_CONFLICTS - held)],
    )


def _rejection(raw: msgspec.Raw, exc: Exception, newest: int) -> EventResult:
    try:
        named = _named_decoder.decode(raw)
    except (msgspec.MsgspecError, RecursionError):
        named = _Named()
    event_id = named.id if isinstance(named.id, str) else None
    if isinstance(named.v, int) and named.v > newest:  # fields of a format this server does not know yet
        return EventResult(id=event_id, status="rejected", reason=_too_new(named.v, newest))
    if isinstance(exc, msgspec.ValidationError) and named.type is not None and named.type not in EVENT_TYPES:
        return EventResult(id=event_id, status="rejected", reason=f"unknown event type {named.type!r}")
    return EventResult(id=event_id, status="rejected", reason=str(exc))


def _held_blobs(conn, shop_id: int, shas: list[str]) -> set[str]:
    rows = conn.execute(
        f"SELECT sha256 FROM blobs WHERE shop_id = ? AND sha256 IN ({placeholders(len(shas))})", [shop_id, *shas]
    )
    return {sha for (sha,) in rows}


def named_blobs(event) -> list[str]:
    """Every blob an event names: its blobs list, each checklist item's photo, a transaction's slip."""
    kind = type(event)
    if kind is ChecklistCompleted:
        extra = [sha for item in event.payload.items for sha in (item.photo, *item.photos)]
    elif kind is IncidentOpened or kind is IncidentTransaction:
        extra = [event.payload.transaction.slip_photo] if event.payload.transaction else []
    else:
        return event.blobs
    named = list(event.blobs)
    for sha in extra:
        if sha is not None and sha not in named:
            named.append(sha)
    return named


def _texts(event) -> list[str]:
    """Every string of an event that a person typed or chose: names, notes, codes, ids of content,
    field names and values. (Ids, hashes, times and answers are checked by their types.)"""
    p, kind = event.payload, type(event)
    if kind is IncidentOpened:
        texts = [p.code, p.terminal, p.note]
    elif kind is IncidentStep:
        texts = [p.flow, p.step, p.note]
    elif kind is IncidentNoted:
        texts = [p.note]
    elif kind is IncidentClosed:
        texts = [p.step or "", p.support or "", p.note]
    elif kind is ChecklistCompleted:
        texts = [p.checklist, p.signed_by, *(text for item in p.items for text in (item.item, item.note))]
    elif kind is IncidentTransaction:
        texts = []  # a transaction's fields are numbers of fixed lengths, checked by their types
    else:
        texts = [p.terminal, p.kind, p.note, *(text for pair in p.fields.items() for text in pair)]
    texts.append(event.recorded_by)
    return texts


# A transaction's references (a 12-digit RRN, a 6-digit batch) are not free text and must stay
# readable: joined across fields they could look like a card number, so they are never joined.
_NOT_TEXT = frozenset({"type", "id", "device", "at", "shop", "blobs", "v", "incident", "occurred_at", "done_at",
                       "period", "answer", "result", "outcome", "photo", "transaction"})


def _clean(event, shop_id: int):
    """The event with the token's shop filled in and every card number in its strings masked."""
    event = replace(event, shop=shop_id)
    # Nearly every event has fewer than 13 digits in all its strings: one regex pass decides that.
    if not may_hold_pan("\x00".join(_texts(event))):
        return event
    tree = msgspec.to_builtins(event)
    slots = list(_text_slots(tree))
    texts = [holder[key] for holder, key in slots]
    masked = mask_fields(texts)
    if masked == texts:
        return event
    for (holder, key), text in zip(slots, masked, strict=True):
        holder[key] = text
    if "fields" in tree["payload"]:  # walked as [name, value] pairs, so the names are masked too
        tree["payload"]["fields"] = dict(tree["payload"]["fields"])
    return msgspec.convert(tree, Event)


def _text_slots(node):
    """(holder, key) of every string in a decoded event that _texts covers, the same ones."""
    for key, value in list(node.items()):
        if key in _NOT_TEXT:
            continue
        if isinstance(value, str):
            yield node, key
        elif key == "fields":
            node[key] = pairs = [[name, text] for name, text in value.items()]
            for pair in pairs:
                yield pair, 0
                yield pair, 1
        elif isinstance(value, dict):
            yield from _text_slots(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _text_slots(item)
