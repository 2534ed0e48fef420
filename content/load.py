"""Load the content files, validate them, and check that every reference resolves."""

import hashlib
import re
import unicodedata
from pathlib import Path

import msgspec

from content.types import Checklist, ErrorCode, Flow, MaintenanceKinds, Strings, Text

DEFAULT_ROOT = Path(__file__).parent


class ContentError(Exception):
    """The content has faults; each names its file and field."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class Library(msgspec.Struct, frozen=True):
    """Everything in content/, validated, with the version that names this exact set of files."""

    codes: dict[str, ErrorCode]
    flows: dict[str, Flow]
    checklists: dict[str, Checklist]
    maintenance: MaintenanceKinds
    strings: dict[str, Text]
    version: str


# A lone letter, then spaces or dashes, then a digit: "t-2" and "t 2" are the code "t2".
_SPLIT_CODE = re.compile(r"(^|[^a-z])([a-z])[\s-]+(?=[0-9])")


def normalise(text: str) -> str:
    """Text as the search compares it, a query and the words of the index alike: full-width
    letters and digits as ASCII (NFKC), lower case, one space between words, "T-2" as "t2".
    pwa/static/js/search.js does the same (tests/cases/search.json pins both)."""
    text = " ".join(unicodedata.normalize("NFKC", text).lower().split())
    return _SPLIT_CODE.sub(r"\1\2", text)


def content_version(root: Path) -> str:
    """A hash of every content file's name and bytes: any change gives a new version."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.toml")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _decode(path: Path, root: Path, type_, problems: list[str]):
    name = path.relative_to(root).as_posix()
    try:
        return msgspec.toml.decode(path.read_bytes(), type=type_)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        problems.append(f"{name}: {exc}")
    except OSError as exc:
        problems.append(f"{name}: cannot read ({exc.strerror})")
    return None


def _decode_dir(root: Path, folder: str, type_, key, problems: list[str]) -> dict:
    items = {}
    for path in sorted((root / folder).glob("*.toml")):
        item = _decode(path, root, type_, problems)
        if item is None:
            continue
        name = f"{folder}/{path.name}"
        if path.stem != key(item):
            problems.append(f"{name}: the file must be named {key(item)}.toml after its id")
        folded = key(item).lower()
        if any(k.lower() == folded for k in items):
            problems.append(f"{name}: {key(item)!r} is not unique (ids ignore case)")
            continue
        items[key(item)] = item
    return items


def load(root: Path = DEFAULT_ROOT) -> Library:
    """Decode and check every file under root; raise ContentError listing every fault."""
    problems: list[str] = []
    codes = _decode_dir(root, "codes", ErrorCode, lambda c: c.code, problems)
    flows = _decode_dir(root, "flows", Flow, lambda f: f.id, problems)
    checklists = _decode_dir(root, "checklists", Checklist, lambda c: c.id, problems)
    maintenance = _decode(root / "maintenance.toml", root, MaintenanceKinds, problems)
    strings = _decode(root / "strings.toml", root, Strings, problems)
    if problems:
        raise ContentError(problems)
    problems += _check_codes(codes, flows)
    problems += _check_search_words(codes)
    for flow in flows.values():
        problems += _check_flow(flow, codes)
    kinds = {kind.id for kind in maintenance.kinds}
    if len(kinds) != len(maintenance.kinds):
        problems.append("maintenance.toml: kinds: ids are not unique")
    for checklist in checklists.values():
        problems += _check_checklist(checklist, kinds)
    if problems:
        raise ContentError(problems)
    return Library(
        codes=codes,
        flows=flows,
        checklists=checklists,
        maintenance=maintenance,
        strings=strings.strings,
        version=content_version(root),
    )


def check(root: Path = DEFAULT_ROOT) -> list[str]:
    """Every fault in the content under root, as lines naming file and field; empty when sound."""
    try:
        load(root)
    except ContentError as exc:
        return exc.problems
    return []


def _check_codes(codes: dict[str, ErrorCode], flows: dict[str, Flow]) -> list[str]:
    problems = []
    for code in codes.values():
        name = f"codes/{code.code}.toml"
        if code.flow is not None and code.flow not in flows:
            problems.append(f"{name}: flow: no flow {code.flow!r} in flows/")
        causes = [cause.id for cause in code.causes]
        if len(set(causes)) != len(causes):
            problems.append(f"{name}: causes: ids are not unique")
    for flow in flows.values():
        if flow.code not in codes:
            problems.append(f"flows/{flow.id}.toml: code: no code {flow.code!r} in codes/")
        elif codes[flow.code].flow != flow.id:
            problems.append(f"flows/{flow.id}.toml: code: codes/{flow.code}.toml does not name this flow")
    return problems


def _check_search_words(codes: dict[str, ErrorCode]) -> list[str]:
    """Keywords and synonyms normalise to something, once per guide; a synonym names one guide."""
    problems = []
    owner: dict[tuple[str, str], str] = {(lang, normalise(code.code)): code.code for code in codes.values()
                                         for lang in ("zh", "en")}
    for code in codes.values():
        name = f"codes/{code.code}.toml"
        for lang in ("zh", "en"):
            seen: set[str] = set()
            for field in ("synonyms", "keywords"):
                for word in getattr(getattr(code, field), lang):
                    folded = normalise(word)
                    if not folded:
                        problems.append(f"{name}: {field}.{lang}: {word!r} is blank once normalised")
                    elif folded in seen:
                        problems.append(f"{name}: {field}.{lang}: {word!r} repeats another word of this guide")
                    seen.add(folded)
                    if field != "synonyms" or not folded:
                        continue
                    other = owner.setdefault((lang, folded), code.code)
                    if other != code.code:
                        problems.append(f"{name}: synonyms.{lang}: {word!r} already means codes/{other}.toml")
    return problems


def _check_flow(flow: Flow, codes: dict[str, ErrorCode]) -> list[str]:
    name = f"flows/{flow.id}.toml"
    problems = []
    steps = {step.id: step for step in flow.steps}
    cards = {card.id for card in flow.support}
    if len(steps) != len(flow.steps):
        problems.append(f"{name}: steps: ids are not unique")
    if len(cards) != len(flow.support):
        problems.append(f"{name}: support: ids are not unique")
    if flow.start not in steps:
        problems.append(f"{name}: start: no step {flow.start!r}")
        return problems
    causes = {cause.id for cause in codes[flow.code].causes} if flow.code in codes else set()
    for step in flow.steps:
        if step.cause is not None and step.cause not in causes:
            problems.append(f"{name}: steps.{step.id}.cause: {flow.code} has no cause {step.cause!r}")
        for answer in ("fixed", "not_fixed", "cant_check"):
            target = getattr(step, answer)
            if target == "fixed":
                continue
            if target.startswith("support:"):
                if target.removeprefix("support:") not in cards:
                    problems.append(f"{name}: steps.{step.id}.{answer}: no support card {target!r}")
            elif target not in steps:
                problems.append(f"{name}: steps.{step.id}.{answer}: no step {target!r}")
            elif target == step.id:
                problems.append(f"{name}: steps.{step.id}.{answer}: leads back to itself")
    if problems:
        return problems
    reachable = _reachable(flow.start, steps)
    for step_id in steps.keys() - reachable:
        problems.append(f"{name}: steps.{step_id}: cannot be reached from {flow.start!r}")
    # A step ends when some path from it reaches "fixed" or a support card; one that cannot is a
    # dead end or a loop with no way out.
    ending: set[str] = set()
    changed = True
    while changed:
        changed = False
        for step in flow.steps:
            if step.id in ending:
                continue
            if any(t == "fixed" or t.startswith("support:") or t in ending for t in _targets(step)):
                ending.add(step.id)
                changed = True
    for step_id in sorted(reachable - ending):
        problems.append(f"{name}: steps.{step_id}: no path from here ends fixed or at a support card")
    used_cards = {t.removeprefix("support:") for s in flow.steps for t in _targets(s)}
    for card in sorted(cards - used_cards):
        problems.append(f"{name}: support.{card}: no step leads here")
    return problems


def _targets(step) -> tuple[str, str, str]:
    return (step.fixed, step.not_fixed, step.cant_check)


def _reachable(start: str, steps: dict) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        step_id = todo.pop()
        if step_id in seen or step_id not in steps:
            continue
        seen.add(step_id)
        todo.extend(_targets(steps[step_id]))
    return seen


_SCHEDULE_FIELDS = {
    "daily": set(),
    "weekly": {"weekday"},
    "monthly": {"day"},
    "quarterly": {"month_of_quarter", "day"},
}


def _check_checklist(checklist: Checklist, kinds: set[str]) -> list[str]:
    name = f"checklists/{checklist.id}.toml"
    problems = []
    given = {f for f in ("weekday", "day", "month_of_quarter") if getattr(checklist.schedule, f) is not None}
    wanted = _SCHEDULE_FIELDS[checklist.frequency]
    if given != wanted:
        problems.append(
            f"{name}: schedule: a {checklist.frequency} checklist takes "
            f"{', '.join(sorted(wanted)) or 'no fields'}, not {', '.join(sorted(given)) or 'none'}"
        )
    ids = [item.id for item in checklist.items]
    if len(set(ids)) != len(ids):
        problems.append(f"{name}: items: ids are not unique")
    if not ids:
        problems.append(f"{name}: items: a checklist needs at least one item")
    for item in checklist.items:
        if item.maintenance is not None and item.maintenance not in kinds:
            problems.append(f"{name}: items.{item.id}.maintenance: no kind {item.maintenance!r} in maintenance.toml")
    return problems
