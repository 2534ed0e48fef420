"""The phone masks card numbers as the server does: mask.js under Node against tests/cases/pan.json and sync/pan.py."""

import json
import random
import re
import sys
import unicodedata
from pathlib import Path

import pytest

from sync import pan
from tests.node import run_module

CASES = json.loads((Path(__file__).parents[1] / "cases" / "pan.json").read_text(encoding="utf-8"))
LUHN = ["4111111111111111", "4111111111111112", "79927398713", "４１１１１１１１１１１１１１１１", "𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟐"]

# One Node run for the whole module: starting Node costs more than all the masking.
SCRIPT = """
import * as mask from "/static/js/mask.js";

const digitClass = new RegExp(`^[${mask.DIGITS}]$`, "u");
const separatorClass = new RegExp(`^[${mask.SEPARATORS}]$`, "u");
const digits = [], digitClassMembers = [], separators = [];
for (let cp = 0; cp <= 0x10ffff; cp++) {
  const ch = String.fromCodePoint(cp);
  const value = mask.digitValue(ch);
  if (value !== undefined) digits.push([cp, value]);
  if (digitClass.test(ch)) digitClassMembers.push(cp);
  if (separatorClass.test(ch)) separators.push(cp);
}
const { MIN_DIGITS, MAX_DIGITS, KEEP_FIRST, KEEP_LAST } = mask;
console.log(JSON.stringify({
  maskPans: input.texts.map(mask.maskPans),
  maskFields: input.fields.map(mask.maskFields),
  luhn: input.luhn.map(mask.luhn),
  constants: { MIN_DIGITS, MAX_DIGITS, KEEP_FIRST, KEEP_LAST },
  digits, digitClassMembers, separators,
}));
"""


def why(case: dict) -> str:
    return case["why"]


def random_texts(count: int, longest: int, seed: int) -> list[str]:
    """Texts mostly of digits (some in other scripts) and separators, with the odd track-data mark."""
    rng = random.Random(seed)
    alphabet = ["0123456789" * 6, "４１٤१𝟒𝟏①¹", " -./\u3000\u200b", "  -/", "abc卡号:*=D^B%;?"]
    weights = [70, 5, 10, 10, 5]
    return [
        "".join(rng.choice(rng.choices(alphabet, weights)[0]) for _ in range(rng.randint(1, longest)))
        for _ in range(count)
    ]


RANDOM_TEXTS = random_texts(500, 80, seed=2026)
RANDOM_FIELDS = [random_texts(3, 16, seed=seed) for seed in range(400)]


@pytest.fixture(scope="module")
def js():
    texts = [case["text"] for case in CASES["masked"] + CASES["untouched"]]
    texts += [case["expected"] for case in CASES["masked"]] + RANDOM_TEXTS
    fields = [case["values"] for case in CASES["fields"]] + [case["expected"] for case in CASES["fields"]]
    fields += RANDOM_FIELDS
    out = run_module(SCRIPT, {"texts": texts, "fields": fields, "luhn": LUHN})
    out["maskPans"] = dict(zip(texts, out["maskPans"]))
    out["maskFields"] = {tuple(values): masked for values, masked in zip(fields, out["maskFields"])}
    return out


@pytest.mark.parametrize("case", CASES["masked"], ids=why)
def test_card_numbers_are_masked_as_on_the_server(js, case):
    masked = js["maskPans"][case["text"]]
    assert masked == case["expected"]
    assert masked == pan.mask_pans(case["text"])


@pytest.mark.parametrize("case", CASES["untouched"], ids=why)
def test_other_text_is_untouched(js, case):
    assert js["maskPans"][case["text"]] == case["text"]


@pytest.mark.parametrize("case", CASES["fields"], ids=why)
def test_the_fields_of_a_record_are_masked_together_as_on_the_server(js, case):
    masked = js["maskFields"][tuple(case["values"])]
    assert masked == case["expected"]
    assert masked == pan.mask_fields(case["values"])


@pytest.mark.parametrize("case", CASES["masked"] + CASES["fields"], ids=why)
def test_masking_twice_changes_nothing(js, case):
    if "values" in case:
        assert js["maskFields"][tuple(case["expected"])] == case["expected"]
    else:
        assert js["maskPans"][case["expected"]] == case["expected"]


def test_random_text_is_masked_as_on_the_server(js):
    assert [text for text in RANDOM_TEXTS if js["maskPans"][text] != pan.mask_pans(text)] == []
    differ = [values for values in RANDOM_FIELDS if js["maskFields"][tuple(values)] != pan.mask_fields(values)]
    assert differ == []


def test_luhn_as_on_the_server(js):
    assert js["luhn"] == [pan.luhn_ok(digits) for digits in LUHN]


def test_constants_are_the_servers(js):
    assert js["constants"] == {name: getattr(pan, name) for name in ("MIN_DIGITS", "MAX_DIGITS", "KEEP_FIRST", "KEEP_LAST")}


def python_digits() -> list[list[int]]:
    """[code point, digit value] of every character that unicodedata gives a digit value."""
    return [[cp, value] for cp in range(sys.maxunicode + 1) if (value := unicodedata.digit(chr(cp), None)) is not None]


def digit_ranges() -> list[list[int]]:
    """Python's digits as mask.js's DIGIT_RANGES: [first, last, value of the first], counting up modulo 10."""
    ranges = []
    for cp, value in python_digits():
        if ranges and ranges[-1][1] == cp - 1 and (ranges[-1][2] + cp - ranges[-1][0]) % 10 == value:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp, value])
    return ranges


def test_the_digit_table_is_unicodedata(js):
    table = ", ".join(f"[{first:#x}, {last:#x}, {value}]" for first, last, value in digit_ranges())
    assert js["digits"] == python_digits(), f"mask.js's DIGIT_RANGES drifted; it should read: [{table}]"
    assert js["digitClassMembers"] == [cp for cp, _ in js["digits"]]


def test_separators_are_the_servers(js):
    every_character = "".join(map(chr, range(sys.maxunicode + 1)))
    assert js["separators"] == [ord(ch) for ch in re.findall(f"[{pan.SEPARATORS}]", every_character)]


MASK_EVENTS = """
import { maskEvent } from "/static/js/outbox.js";
console.log(JSON.stringify(input.map(maskEvent)));
"""
DEVICE = "0b7c5a52-8d3e-4d2a-9f1e-3c1a2b4d5e6f"


def an_event(n: int, type_: str, payload: dict, recorded_by: str = "Wang") -> dict:
    return {"id": f"01890000-0000-7000-8000-00000000000{n}", "type": type_, "device": DEVICE, "at": "2026-11-29T10:00:00Z",
            "recorded_by": recorded_by, "shop": 1, "blobs": [], "payload": payload}


EVENTS = [
    # A card number split between the terminal's name and the note, and one in the note alone.
    an_event(1, "incident.opened", {"code": "T2", "terminal": "Till 4111 1111", "occurred_at": "2026-11-29T09:58:00Z",
                                    "note": "1111 1111 then 5500 0000 0000 0004"}),
    # Between the name that recorded it and a checklist item's note; ids and answers are left alone.
    an_event(2, "checklist.completed", {"checklist": "daily", "period": "2026-11-29", "signed_by": "Li 4111111",
                                        "items": [{"item": "paper", "result": "problem", "note": "111111111 torn"}]},
             recorded_by="Li 4111111"),
    # A maintenance entry's field names and values count too.
    an_event(3, "maintenance.logged", {"terminal": "Till 1", "kind": "cleaning", "done_at": "2026-11-29T09:00:00Z",
                                       "fields": {"parts": "card 4111 1111 1111 1111"}, "note": ""}),
]


def test_the_phone_masks_a_record_as_the_server_does():
    """outbox.js maskEvent against sync/ingest.py: every string a person typed or chose, together."""
    import msgspec

    from sync.ingest import _clean
    from sync.types import event_decoder

    def without_none(value):  # the server's structs spell out defaults the phone leaves out
        if isinstance(value, dict):
            return {k: without_none(v) for k, v in value.items() if v is not None and v != []}
        return [without_none(v) for v in value] if isinstance(value, list) else value

    def texts(event):  # what masking touches; the server may add fields of its own (a format)
        return {"recorded_by": event["recorded_by"], "payload": without_none(event["payload"])}

    phone = run_module(MASK_EVENTS, EVENTS)
    server = [msgspec.to_builtins(_clean(event_decoder.decode(json.dumps(e)), 1)) for e in EVENTS]
    assert [texts(e) for e in phone] == [texts(e) for e in server]
    assert "4111 1111" not in json.dumps(phone) and "5500 0000 0000 0004" not in json.dumps(phone)
