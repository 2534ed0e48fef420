"""The wire types: every event a device records, and the bodies of the sync API.

One definition of each, shared by the server, the forwarder, the tests and the published JSON
Schema. Every record is an immutable event named by the device (a UUIDv7), so storing one twice
is a no-op and the same id with other content is a conflict.
"""

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec


def whole(pattern: str) -> str:
    """A pattern the whole string must match. msgspec searches, and `$` also matches just before a
    final newline, so "id\n" would pass `^…$`: the lookahead refuses that newline."""
    return f"^(?:{pattern})(?!\n)$"


# Characters no name or note may hold: they reorder or hide what an office user reads (bidi
# overrides and isolates), and, in a name, any control character at all.
BIDI = "\u202a-\u202e\u2066-\u2069"
# UUIDv7: made on the device, time-ordered, so ids sort by when they were made.
EventId = Annotated[
    str, msgspec.Meta(pattern=whole(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"))
]
DeviceId = Annotated[
    str, msgspec.Meta(pattern=whole(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"))
]
Sha256 = Annotated[str, msgspec.Meta(pattern=whole(r"[0-9a-f]{64}"))]
# A content id or a code from the terminal's screen. "*" because the server masks a card number
# typed where a code belongs, and the masked value must still be one (411111******1111).
Slug = Annotated[str, msgspec.Meta(pattern=whole(r"[A-Za-z0-9][A-Za-z0-9*-]*"), max_length=40)]
Name = Annotated[str, msgspec.Meta(pattern=whole(f"[^\x00-\x1f\x7f-\x9f{BIDI}]+"), min_length=1, max_length=80)]
Note = Annotated[str, msgspec.Meta(pattern=whole(f"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f{BIDI}]*"), max_length=2000)]
FieldValue = Annotated[str, msgspec.Meta(pattern=whole(f"[^\\x00-\\x1f\\x7f{BIDI}]*"), max_length=200)]
Blobs = Annotated[list[Sha256], msgspec.Meta(max_length=20)]

MAX_BATCH = 500
# The versions of the event format this code reads, oldest first. Each event says which it is
# written in (`v`); a server accepts a range (its pull says which), and a device or hub holds an
# event a server cannot take yet until it can. 2 added the transaction (amount, references…).
FORMATS = (1, 2)


class Wire(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, gc=False):
    """Unknown fields are an error: a device on a newer version must not lose data silently.

    gc=False: these are plain data (no reference cycles), so the garbage collector need not track
    the thousands a push decodes; it changes nothing on the wire.
    """


# ---- payloads ---------------------------------------------------------------------------------


def digits(count: int) -> type:
    """A string of exactly `count` ASCII digits (a reference printed on a slip)."""
    return Annotated[str, msgspec.Meta(pattern=whole(f"[0-9]{{{count}}}"))]


Amount = Annotated[str, msgspec.Meta(pattern=whole(r"[0-9]{1,9}(\.[0-9]{1,2})?"))]  # "128.50": exact, as printed
Currency = Annotated[str, msgspec.Meta(pattern=whole("[A-Z]{3}"))]  # ISO 4217


class Transaction(Wire, omit_defaults=True):
    """The payment that failed, as the slip or the terminal's screen shows it (format 2). Every field
    may be left out: the cashier fills what is at hand, and a save never waits for it."""

    amount: Amount | None = None
    currency: Currency = "CNY"
    kind: Literal["sale", "void", "refund", "preauth", "balance"] | None = None
    entry: Literal["chip", "contactless", "swipe", "qr", "manual"] | None = None
    rrn: digits(12) | None = None  # retrieval reference number
    trace: digits(6) | None = None  # voucher / trace number
    batch: digits(6) | None = None
    auth_code: Annotated[str, msgspec.Meta(pattern=whole("[A-Za-z0-9]{6}"))] | None = None
    charged: Literal["yes", "no", "unknown"] | None = None  # was the customer charged?
    card_last4: digits(4) | None = None  # never more of the card number than this
    slip_photo: Sha256 | None = None  # the photo (one of the event's blobs) of the slip or the screen


class IncidentOpenedPayload(Wire):
    code: Slug  # the error code on the terminal, e.g. "T2" or "51"
    terminal: Name  # the terminal's name from the shop's list, or free text
    occurred_at: datetime
    note: Note = ""
    transaction: Transaction | None = None  # format 2


class IncidentTransactionPayload(Wire):
    """The transaction told later (at the support card, or when closing), replacing what was told before."""

    incident: EventId
    transaction: Transaction


class IncidentStepPayload(Wire):
    incident: EventId  # the id of the incident.opened event
    flow: Slug
    step: Slug
    answer: Literal["fixed", "not_fixed", "cant_check"]
    note: Note = ""


class IncidentNotedPayload(Wire):
    incident: EventId
    note: Note = ""


class IncidentClosedPayload(Wire):
    incident: EventId
    outcome: Literal["resolved", "escalated"]
    step: Slug | None = None  # resolved at this step, or escalated from it
    support: Slug | None = None  # the support card the cashier called from
    note: Note = ""


class ChecklistItemResult(Wire):
    item: Slug
    result: Literal["ok", "problem", "na"]
    note: Note = ""
    photo: Sha256 | None = None  # format 1: one photo of the item
    photos: Annotated[list[Sha256], msgspec.Meta(max_length=5)] = []  # format 2: up to five


class ChecklistCompletedPayload(Wire):
    checklist: Slug
    period: date  # the first day of the period the run covers (the day, week, month or quarter)
    items: Annotated[list[ChecklistItemResult], msgspec.Meta(min_length=1, max_length=100)]
    signed_by: Name


class MaintenanceLoggedPayload(Wire):
    terminal: Name
    kind: Slug
    done_at: datetime
    fields: dict[Slug, FieldValue] = {}
    note: Note = ""


# ---- events -----------------------------------------------------------------------------------


class EventBase(Wire, tag_field="type"):
    id: EventId
    device: DeviceId  # the device names itself at first start, before it is enrolled
    at: datetime  # the device's clock when the event was recorded
    recorded_by: Name
    shop: int | None = None  # unknown until the device is enrolled; the token's shop then
    blobs: Blobs = []  # sha256 of every photo the event names
    v: Annotated[int, msgspec.Meta(ge=1)] = 1  # the format it is written in (FORMATS)


class IncidentOpened(EventBase, tag="incident.opened", kw_only=True):
    payload: IncidentOpenedPayload


class IncidentStep(EventBase, tag="incident.step", kw_only=True):
    payload: IncidentStepPayload


class IncidentNoted(EventBase, tag="incident.noted", kw_only=True):
    payload: IncidentNotedPayload


class IncidentClosed(EventBase, tag="incident.closed", kw_only=True):
    payload: IncidentClosedPayload


class IncidentTransaction(EventBase, tag="incident.transaction", kw_only=True):
    payload: IncidentTransactionPayload


class ChecklistCompleted(EventBase, tag="checklist.completed", kw_only=True):
    payload: ChecklistCompletedPayload


class MaintenanceLogged(EventBase, tag="maintenance.logged", kw_only=True):
    payload: MaintenanceLoggedPayload


Event = (IncidentOpened | IncidentStep | IncidentNoted | IncidentClosed | IncidentTransaction | ChecklistCompleted
         | MaintenanceLogged)
EVENT_TYPES = {cls.__struct_config__.tag: cls for cls in Event.__args__}
# What each format added, so that the schema of an older one leaves it out.
ADDED = {2: {"types": ["IncidentTransaction", "IncidentTransactionPayload", "Transaction"],
             "fields": {"IncidentOpenedPayload": ["transaction"], "ChecklistItemResult": ["photos"]}}}


def format_needed(event) -> int:
    """The oldest format that can hold this event."""
    kind = type(event)
    if kind is IncidentTransaction or (kind is IncidentOpened and event.payload.transaction):
        return 2
    if kind is ChecklistCompleted and any(item.photos for item in event.payload.items):
        return 2
    return 1

event_decoder = msgspec.json.Decoder(Event)


def event_schema(version: int = FORMATS[-1]) -> dict:
    """The JSON Schema of an event written in format `version`, as published for devices to check
    what they record: a newer format's types and fields are not in an older one's."""
    schema = msgspec.json.schema(Event)
    defs = schema["$defs"]
    for later in (v for v in ADDED if v > version):
        for name in ADDED[later]["types"]:
            defs.pop(name, None)
        for name, fields in ADDED[later]["fields"].items():
            for field in fields:
                defs[name]["properties"].pop(field, None)
    kept = {f"#/$defs/{name}" for name in defs}
    schema["anyOf"] = [ref for ref in schema["anyOf"] if ref["$ref"] in kept]
    mapping = schema["discriminator"]["mapping"]
    schema["discriminator"]["mapping"] = {tag: ref for tag, ref in mapping.items() if ref in kept}
    for name in defs:
        if "v" in defs[name].get("properties", {}):
            defs[name]["properties"]["v"] = {"type": "integer", "minimum": 1, "maximum": version, "default": 1}
    return schema


# ---- the sync API's bodies --------------------------------------------------------------------

EnrollCode = Annotated[str, msgspec.Meta(pattern=whole(r"[A-Za-z0-9-]{6,64}"))]


class EnrollRequest(Wire):
    code: EnrollCode  # the one-time enrollment code, typed or from a scanned QR code's URL
    device: DeviceId
    name: Name  # what the shop calls this phone, e.g. "till 1 phone"


class ShopInfo(Wire, omit_defaults=True):
    """A shop as its devices know it: what the support card reads out comes from here."""

    id: int
    name: str
    region: str | None = None
    address: str | None = None
    acquirer_phone: str | None = None  # the acquirer's support line, called when the flow ends there
    vendor_phone: str | None = None  # the terminal vendor's support line


class EnrollResponse(Wire):
    token: str  # a bearer token for this device and shop; the server keeps only its hash
    shop: ShopInfo
    device: DeviceId


class PushRequest(Wire):
    # Raw: each event is decoded on its own, so one bad event is rejected with its reason while
    # the rest of the batch is still stored.
    events: Annotated[list[msgspec.Raw], msgspec.Meta(max_length=MAX_BATCH)]


EventStatus = Literal["stored", "duplicate", "conflict", "rejected"]


class EventResult(Wire):
    id: str | None  # None when the event was too broken to have a readable id
    status: EventStatus
    reason: str | None = None
    missing: list[Sha256] = []  # blobs the server lacks: send them, then push the event again


class PushResponse(Wire):
    results: list[EventResult]


class TerminalInfo(Wire, omit_defaults=True):
    """A terminal of the shop, from head office's register."""

    id: int
    name: str  # what the shop calls it, e.g. "收银台 1"
    model: str | None = None
    serial: str | None = None
    tid: str | None = None  # terminal id, as the acquirer knows it
    mid: str | None = None  # merchant id
    acquirer: str | None = None
    software_version: str | None = None


class RunInfo(Wire):
    """A checklist run of the shop, from any of its devices: what is done this period, by whom, when."""

    id: EventId
    checklist: str
    period: date
    signed_by: str
    completed_at: datetime
    device: DeviceId
    problems: int


class ChecklistSchedule(Wire):
    id: str
    frequency: Literal["daily", "weekly", "monthly", "quarterly"]
    weekday: int | None = None
    day: int | None = None
    month_of_quarter: int | None = None


class StepLearned(Wire):
    """How often one check of a flow fixed the problem, across the chain."""

    step: Slug  # the step's id in the flow (content/flows/<flow>.toml)
    percent: Annotated[int, msgspec.Meta(ge=0, le=100)]  # of the flow's closed incidents, those fixed at this step


class FlowLearned(Wire):
    """What the chain learned of one flow over the last 90 days: sent only once enough incidents
    were closed to say so (server/learned.py)."""

    flow: Slug
    incidents: int  # the flow's incidents closed chain-wide in the window: the percentages' base
    steps: list[StepLearned]  # every step of the flow, in the flow's order


class PullResponse(Wire):
    """What a device learns from its server. `formats`: the event formats the server accepts; a
    device holds what it recorded in another until a pull says the server takes it."""

    shop: ShopInfo
    device: DeviceId
    terminals: list[TerminalInfo]
    staff: list[str]
    checklists: list[ChecklistSchedule]
    content_version: str
    held: list[EventId]  # ids of this device's events the server holds, newest first, capped
    runs: list[RunInfo] = []  # the shop's checklist runs of the current periods (from this quarter on)
    formats: list[int] = msgspec.field(default_factory=lambda: [1])  # a server that does not say: format 1
    learned: list[FlowLearned] = []  # per flow, how often each step fixed it across the chain (last 90 days)


class ContentFiles(Wire):
    """The content as head office serves it to its hubs: every file's text by its path in content/."""

    version: str
    files: dict[str, str]


class BlobStatus(Wire):
    """The answer to a blob upload: the bytes the server holds, and whether the blob is complete."""

    sha256: Sha256
    offset: int  # resume from here when not complete
    complete: bool
    media_type: str | None = None  # image/jpeg, image/png or image/webp once complete
