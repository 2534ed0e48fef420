"""What the office's forms and URLs carry, as msgspec Structs with their limits in the types.

A browser sends every field of a form, empty ones too: an empty field means "not given". Text a
person typed is trimmed and masked for card numbers before anything keeps or compares it (a
password is neither). A bad value is a BadRequest naming the field, as everywhere in posaid.
"""

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar.enums import RequestEncodingType
from litestar.params import Body

from server.queries import Cursor
from sync.errors import BadRequest
from sync.pan import mask_pans
from sync.types import Name, Slug

T = TypeVar("T")
Text = Annotated[str, msgspec.Meta(max_length=200)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^[0-9+() -]{3,30}$")]
Search = Annotated[str, msgspec.Meta(max_length=100)]
ShopId = Annotated[int, msgspec.Meta(ge=1)]
# A form's fields as the browser sent them (url-encoded), read into a Struct by `read`.
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
UNMASKED = frozenset({"password", "_csrf_token", "after", "before"})


def read(values: Mapping[str, str], type_: type[T]) -> T:
    """A Struct from form fields or query parameters: empty ones dropped, text trimmed and masked."""
    fields = set(type_.__struct_encode_fields__)
    cleaned = {}
    for key, value in values.items():
        if key not in fields or not isinstance(value, str):
            continue
        value = value if key in UNMASKED else mask_pans(value.strip())
        if value != "":
            cleaned[key] = value
    try:
        return msgspec.convert(cleaned, type_, strict=False)
    except msgspec.ValidationError as exc:
        text, _, where = str(exc).rpartition(" - at `$.")
        raise BadRequest(f"{where.rstrip('`')}: {text}" if where else str(exc)) from None


def cursor_text(at: str, id_: str, shop: int) -> str:
    return f"{at}~{id_}~{shop}"


def parse_cursor(text: str | None) -> Cursor | None:
    if not text:
        return None
    at, _, rest = text.partition("~")
    id_, _, shop = rest.partition("~")
    if not (at and id_ and shop.isdigit()):
        raise BadRequest(f"after: not a page of this list: {text!r}")
    return Cursor(at=at, id=id_, shop=int(shop))


class Query(msgspec.Struct, frozen=True, kw_only=True):
    """A list page's query: its filters and where the page starts. `link()` keeps the filters."""

    after: str | None = None

    def params(self, **changes) -> dict[str, str]:
        values = {**msgspec.structs.asdict(self), **changes}
        names = {f.name: f.encode_name for f in msgspec.structs.fields(self)}
        return {names.get(k, k): str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in values.items() if v is not None and v != ""}

    def link(self, path: str, **changes) -> str:
        params = self.params(**changes)
        return path + ("?" + urlencode(params) if params else "")

    @property
    def filtered(self) -> bool:
        return bool(self.params(after=None))


class IncidentQuery(Query, kw_only=True):
    shop: ShopId | None = None
    region: Name | None = None
    code: Slug | None = None
    outcome: Literal["open", "resolved", "escalated"] | None = None
    terminal: Name | None = None
    from_: date | None = msgspec.field(default=None, name="from")
    to: date | None = None
    q: Search | None = None
    kind: Literal["sale", "void", "refund", "preauth", "balance"] | None = None  # the transaction's
    entry: Literal["chip", "contactless", "swipe", "qr", "manual"] | None = None
    charged: Literal["yes", "no", "unknown"] | None = None


class RunQuery(Query, kw_only=True):
    shop: ShopId | None = None
    region: Name | None = None
    checklist: Slug | None = None
    problems: bool | None = None
    from_: date | None = msgspec.field(default=None, name="from")
    to: date | None = None


class MaintenanceQuery(Query, kw_only=True):
    shop: ShopId | None = None
    region: Name | None = None
    kind: Slug | None = None
    terminal: Name | None = None
    from_: date | None = msgspec.field(default=None, name="from")
    to: date | None = None


class ShopQuery(Query, kw_only=True):
    region: Name | None = None
    q: Search | None = None


class DeviceQuery(Query, kw_only=True):
    shop: ShopId | None = None
    region: Name | None = None
    state: Literal["active", "revoked"] | None = None


class AuditQuery(Query, kw_only=True):
    action: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class SignIn(msgspec.Struct, frozen=True):
    username: Annotated[str, msgspec.Meta(max_length=200)] = ""
    password: Annotated[str, msgspec.Meta(max_length=256)] = ""
    next: str = "/office/"
    lang: Literal["zh", "en"] = "zh"


class LangChoice(msgspec.Struct, frozen=True):
    lang: Literal["zh", "en"]
    next: str = "/office/"


class ShopForm(msgspec.Struct, frozen=True):
    name: Name
    region: Name | None = None
    address: Text | None = None
    acquirer_phone: Phone | None = None
    vendor_phone: Phone | None = None


class TerminalForm(msgspec.Struct, frozen=True):
    name: Name
    model: Name | None = None
    serial: Name | None = None
    tid: Name | None = None
    mid: Name | None = None
    acquirer: Name | None = None
    software_version: Name | None = None


class StaffForm(msgspec.Struct, frozen=True):
    name: Name


class CodeForm(msgspec.Struct, frozen=True):
    kind: Literal["phone", "hub"] = "phone"


class UserForm(msgspec.Struct, frozen=True):
    name: str
    role: str
    password: str
    regions: str = ""  # comma-separated



class ActionQuery(Query, kw_only=True):
    shop: ShopId | None = None
    region: Name | None = None
    checklist: Slug | None = None
    item: Slug | None = None
    state: Literal["open", "closed", "all"] = "open"
    from_: date | None = msgspec.field(default=None, name="from")
    to: date | None = None


class ComplianceQuery(Query, kw_only=True):
    region: Name | None = None
    shop: ShopId | None = None


class TrendQuery(Query, kw_only=True):
    region: Name | None = None
    shop: ShopId | None = None
    days: Literal[30, 90, 365] | None = None  # 90 when not given


class CloseForm(msgspec.Struct, frozen=True):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


Minutes = Annotated[int, msgspec.Meta(ge=1, le=525600)]  # up to a year


class RuleForm(msgspec.Struct, frozen=True):
    kind: Literal["shop_code", "terminal", "group_code", "checklist_missed"]
    count: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    minutes: Minutes = 60  # the window (a terminal rule's in days, converted by the route)
    code: Slug | None = None
    grouping: Literal["acquirer", "region"] | None = None
    enabled: bool = False  # an unticked box sends nothing


class TargetForm(msgspec.Struct, frozen=True):
    kind: Literal["webhook", "email"]
    address: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


class FeedTokenForm(msgspec.Struct, frozen=True):
    name: Name
