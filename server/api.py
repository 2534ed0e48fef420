"""The sync API under /api/v1: enroll, push events, pull, and the published event schema.

Every body is a type from sync/types.py. Bodies are decoded here with msgspec Decoders built once
(the push's events are then decoded one by one by sync.ingest), so a bad body gets a 400 whose
detail names the field, and the OpenAPI schema still shows the type (see `documented_body`).
"""

import msgspec
from litestar import Request, Router, get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException, PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.params import RawBody

from server import auth, blobs_api
from server.db import now
from server.openapi import BEARER, documented_body
from sync.ingest import BadPush, TooManyEvents, decode_push, ingest
from sync.types import (
    ChecklistSchedule,
    EnrollRequest,
    EnrollResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    ShopInfo,
    TerminalInfo,
    event_schema,
)

HELD_LIMIT = 1000  # ids in a pull's `held`: enough for a phone to prune its outbox in steps

_enroll_decoder = msgspec.json.Decoder(EnrollRequest)
_EVENT_SCHEMA = event_schema()


def _struct_schema(type_: type) -> dict:
    """The JSON Schema of a Struct with no nested Structs, inlined (no $refs to resolve)."""
    schema = msgspec.json.schema(type_)
    return schema["$defs"][type_.__name__]


def _push_schema() -> dict:
    schema = _struct_schema(PushRequest)
    schema["properties"]["events"]["items"] = {
        "type": "object",
        "description": "one event: its JSON Schema is published at /api/v1/schema/events.json",
    }
    return schema


@post(
    "/enroll",
    sync_to_thread=True,
    status_code=200,
    opt={"exclude_from_auth": True},
    operation_class=documented_body(_struct_schema(EnrollRequest)),
)
def enroll(body: RawBody, state: State) -> EnrollResponse:
    """Enroll a device with a one-time code: a bearer token for the code's shop."""
    try:
        request = _enroll_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ClientException(f"body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ClientException(f"body is not valid JSON: {exc}") from None
    try:
        with state.store.write() as db:
            token, shop_id, shop_name = auth.enroll(db, request.code, request.device, request.name, now())
    except auth.EnrollError as exc:
        raise PermissionDeniedException(str(exc)) from None
    return EnrollResponse(token=token, shop=ShopInfo(id=shop_id, name=shop_name), device=request.device)


@post(
    "/events",
    sync_to_thread=True,
    status_code=200,
    security=BEARER,
    operation_class=documented_body(_push_schema()),
)
def push(request: Request, body: RawBody, state: State) -> PushResponse:
    """Push a batch of events (at most 500): each is stored, a duplicate, a conflict or rejected."""
    device: auth.Device = request.user
    try:
        raws = decode_push(body)
    except TooManyEvents as exc:
        raise ClientException(str(exc), status_code=413) from None
    except BadPush as exc:
        raise ClientException(str(exc)) from None
    with state.store.write() as db:
        results = ingest(db, device.shop_id, device.id, raws, now())
    return PushResponse(results=results)


@get("/pull", sync_to_thread=True, security=BEARER)
def pull(request: Request, state: State) -> PullResponse:
    """What the device needs: its shop, terminals, staff, checklist schedules, and its events held."""
    device: auth.Device = request.user
    shop_id = device.shop_id
    with state.store.read() as db:
        shop_name = db.execute("SELECT name FROM shops WHERE id = ?", [shop_id]).fetchone()[0]
        terminals = [
            TerminalInfo(id=row[0], name=row[1], model=row[2])
            for row in db.execute("SELECT id, name, model FROM terminals WHERE shop_id = ? ORDER BY id", [shop_id])
        ]
        staff = [row[0] for row in db.execute("SELECT name FROM staff WHERE shop_id = ? ORDER BY id", [shop_id])]
        held = [
            row[0]
            for row in db.execute(
                "SELECT id FROM events WHERE shop_id = ? AND device = ? ORDER BY seq DESC LIMIT ?",
                [shop_id, device.id, HELD_LIMIT],
            )
        ]
    library = state.library
    checklists = [
        ChecklistSchedule(
            id=c.id,
            frequency=c.frequency,
            weekday=c.schedule.weekday,
            day=c.schedule.day,
            month_of_quarter=c.schedule.month_of_quarter,
        )
        for c in library.checklists.values()
    ]
    return PullResponse(
        shop=ShopInfo(id=shop_id, name=shop_name),
        device=device.id,
        terminals=terminals,
        staff=staff,
        checklists=checklists,
        content_version=library.version,
        held=held,
    )


@get("/schema/events.json", sync_to_thread=False, opt={"exclude_from_auth": True})
def events_schema() -> dict:
    """The JSON Schema of an event, for devices to check what they record before they push it."""
    return _EVENT_SCHEMA


router = Router(
    path="/api/v1",
    route_handlers=[enroll, push, pull, events_schema, blobs_api.blob_head, blobs_api.blob_put],
    middleware=[DefineMiddleware(auth.BearerAuth, exclude_from_auth_key="exclude_from_auth")],
    tags=["sync"],
)
