"""The sync API under /api/v1: enroll, push events, pull, and the published event schema.

Every body is a type from sync/types.py, decoded by Litestar, so a bad body gets a 400 naming the
field; the push alone reads its raw bytes, because each event in it is decoded on its own (one
bad event is rejected with its reason while the rest of the batch is stored) and a batch over
the limit is a 413, not a 400.
"""

from datetime import date, timedelta
from typing import Annotated

import msgspec
from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.middleware import DefineMiddleware
from litestar.params import JSONBody, Parameter, RawBody

from content.load import Library
from server import auth, blobs_api, dialect, queries
from server.hub import Forwarder
from server.learned import Learned
from server.limits import Limits
from server.openapi import BEARER, documented, problems
from server.settings import Settings
from server.store import Store, now
from sync.errors import NotFound
from sync.ingest import decode_push, ingest
from sync.pan import mask_pans
from sync.types import (
    FORMATS,
    ChecklistSchedule,
    ContentFiles,
    EnrollRequest,
    EnrollResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    ShopInfo,
    event_schema,
)

HELD_LIMIT = 1000  # ids in a pull's `held`: enough for a phone to prune its outbox in steps

_EVENT_SCHEMAS = {f"events-v{version}.json": event_schema(version) for version in FORMATS}
_EVENT_SCHEMAS["events.json"] = event_schema()  # the newest


def _push_schema() -> dict:
    schema = msgspec.json.schema(PushRequest)["$defs"][PushRequest.__name__]
    schema["properties"]["events"]["items"] = {
        "type": "object",
        "description": "one event: its JSON Schema is published at /api/v1/schema/events.json",
    }
    return schema


@post("/enroll", sync_to_thread=True, status_code=200, opt={"exclude_from_auth": True},
      responses=problems(400, 403, 408, 409, 413, 429, 503))
def enroll(
    request: Request,
    data: JSONBody[EnrollRequest],
    store: NamedDependency[Store],
    limits: NamedDependency[Limits],
    settings: NamedDependency[Settings],
) -> EnrollResponse:
    """Enroll a device with a one-time code: a bearer token for the code's shop.

    A device enrolled already sends its current token too (Authorization: Bearer), to show it is itself.
    """
    address = request.client.host if request.client else "unknown"
    limits.hit(f"enroll:address:{address}", settings.enroll_per_address, 60, "enrollment from this address")
    limits.hit(f"enroll:code:{auth.code_prefix(data.code)}", settings.enroll_per_code, 60, "enrollment with this code")
    token = auth.bearer_token(request.headers.get("authorization", ""))
    with store.read() as db:  # a wrong code is refused without waiting for the write lock
        holder = auth.authenticate(db, token) if token else None
        auth.check_code(db, data.code, data.device, now())
    with store.write() as db:
        token, shop = auth.enroll(db, data.code, data.device, mask_pans(data.name), now(), holder)
    return EnrollResponse(token=token, shop=ShopInfo(id=shop.id, name=shop.name), device=data.device)


@post("/events", sync_to_thread=True, status_code=200, security=BEARER, operation_class=documented(_push_schema()),
      responses=problems(400, 401, 408, 413, 503))
def push(
    request: Request,
    body: RawBody,
    store: NamedDependency[Store],
    forwarder: NamedDependency[Forwarder | None],
    settings: NamedDependency[Settings],
) -> PushResponse:
    """Push a batch of events (at most 500): each is stored, a duplicate, a conflict or rejected."""
    device: auth.Device = request.user
    raws = decode_push(body)
    with store.write() as db:
        dialect.serialise(db, dialect.SHOP, device.shop_id)  # another app server's push of this shop first
        results = ingest(db, device.shop_id, device.id, raws, now(), hub=device.hub, newest=settings.max_format)
    if forwarder is not None and any(r.status == "stored" for r in results):
        forwarder.wake()  # a hub sends its phones' records on at once
    return PushResponse(results=results)


@get("/pull", sync_to_thread=True, security=BEARER, responses=problems(401, 503))
def pull(
    request: Request, store: NamedDependency[Store], library: NamedDependency[Library], settings: NamedDependency[Settings],
    learned: NamedDependency[Learned],
) -> PullResponse:
    """What the device needs: its shop, terminals, staff, checklist schedules, and its events held."""
    device: auth.Device = request.user
    with store.read() as db:
        shop = queries.shop_info(db, device.shop_id)
        terminals = queries.terminals(db, device.shop_id)
        staff = queries.staff_names(db, device.shop_id)
        held = queries.held_event_ids(db, device.shop_id, device.id, HELD_LIMIT)
        runs = queries.shop_runs_since(db, device.shop_id, _quarter_start(date.today()).isoformat())
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
        shop=shop,
        device=device.id,
        terminals=terminals,
        staff=staff,
        checklists=checklists,
        content_version=library.version,
        held=held,
        runs=runs,
        formats=[version for version in FORMATS if version <= settings.max_format],
        learned=learned(),
    )


def _quarter_start(today: date) -> date:
    """The day before this quarter began: every period a phone may call current, whatever its time
    zone, starts on or after it (the longest period is a quarter)."""
    return date(today.year, today.month - (today.month - 1) % 3, 1) - timedelta(days=1)


@get("/content", sync_to_thread=False, security=BEARER, responses=problems(401))
def content(content_files: NamedDependency[ContentFiles]) -> ContentFiles:
    """The content files this server serves, for a hub to bring down when its version differs."""
    return content_files


@get("/schema/{name:str}", sync_to_thread=False, opt={"exclude_from_auth": True}, responses=problems(404))
def events_schema(name: Annotated[str, Parameter(description="events.json (the newest format), or events-v1.json …")]
                  ) -> dict:
    """The JSON Schema of an event in each format (events-v1.json …; events.json, the newest), for
    devices to check what they record before they push it."""
    if name not in _EVENT_SCHEMAS:
        raise NotFound(f"schema {name!r}: there are {', '.join(sorted(_EVENT_SCHEMAS))}")
    return _EVENT_SCHEMAS[name]


def router(store: Store) -> Router:
    """The API's routes behind the bearer-token middleware, which looks tokens up in `store`."""
    return Router(
        path="/api/v1",
        route_handlers=[enroll, push, pull, content, events_schema, blobs_api.blob_head, blobs_api.blob_put],
        middleware=[DefineMiddleware(auth.BearerAuth, store=store, exclude_from_auth_key="exclude_from_auth")],
        tags=["sync"],
    )
