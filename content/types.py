"""The shapes of the content files: every file in content/ decodes into one of these."""

from typing import Annotated, Literal

import msgspec

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=40)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$", max_length=40)]
Line = Annotated[str, msgspec.Meta(min_length=1)]
# An answer leads to another step of the same flow (its id), to "fixed", or to a support card
# of the same flow as "support:<card id>".
Target = Annotated[str, msgspec.Meta(pattern=r"^(fixed|support:[a-z0-9-]+|[a-z0-9][a-z0-9-]*)$")]


class Base(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Unknown keys are an error, so a typo in a content file never passes silently."""


class Text(Base):
    """One piece of text in both languages; zh-CN comes first."""

    zh: Line
    en: Line


class Keywords(Base):
    """Extra words the offline search matches, per language."""

    zh: list[Line] = []
    en: list[Line] = []


class Synonyms(Keywords):
    """What people type that means this guide and no other ("没网", "card declined"): a synonym
    ranks just below the guide's own code, and `posaid content check` refuses one that two
    guides claim."""


class Cause(Base):
    id: Slug
    title: Text
    detail: Text


class ErrorCode(Base):
    """One error code or terminal fault: content/codes/<code>.toml."""

    code: Code
    kind: Literal["terminal", "host", "fault"]
    title: Text
    summary: Text
    meaning: Text
    retry: Literal["yes", "no", "after-fix"]
    customer: Text
    actions: list[Text]
    causes: list[Cause] = []
    flow: Slug | None = None
    note: Text | None = None
    keywords: Keywords = Keywords()
    synonyms: Synonyms = Synonyms()


class Step(Base):
    id: Slug
    title: Text
    do: Text
    look: Text
    tells: Text
    not_fixed: Target
    cant_check: Target
    fixed: Target = "fixed"
    cause: Slug | None = None


class SupportCard(Base):
    id: Slug
    who: Literal["acquirer", "vendor", "technician", "issuer"]
    title: Text
    when: Text
    tell: list[Text]


class Flow(Base):
    """A guided check flow: content/flows/<id>.toml."""

    id: Slug
    code: Code
    title: Text
    start: Slug
    steps: list[Step]
    support: list[SupportCard]


class Schedule(Base):
    """When a checklist falls due: weekday is ISO (1 = Monday), day is of the month."""

    weekday: Annotated[int, msgspec.Meta(ge=1, le=7)] | None = None
    day: Annotated[int, msgspec.Meta(ge=1, le=28)] | None = None
    month_of_quarter: Annotated[int, msgspec.Meta(ge=1, le=3)] | None = None


class ChecklistItem(Base):
    id: Slug
    title: Text
    why: Text
    how: Text
    problem: Text
    action: Text
    maintenance: Slug | None = None


class Checklist(Base):
    """A prevention checklist: content/checklists/<id>.toml."""

    id: Slug
    frequency: Literal["daily", "weekly", "monthly", "quarterly"]
    title: Text
    intro: Text
    schedule: Schedule
    items: list[ChecklistItem]


class Field(Base):
    id: Slug
    label: Text
    type: Literal["text", "version", "number", "date"] = "text"
    required: bool = False


class MaintenanceKind(Base):
    id: Slug
    title: Text
    help: Text
    fields: list[Field] = []


class MaintenanceKinds(Base):
    """The kinds of maintenance log entry: content/maintenance.toml."""

    kinds: list[MaintenanceKind]


class Strings(Base):
    """Every UI string, keyed by name: content/strings.toml."""

    strings: dict[str, Text]
