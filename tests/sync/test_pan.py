"""Card numbers in free text are masked to first 6 / last 4, by the rule tests/cases/pan.json pins."""

import json
import re
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings

from sync.pan import (
    DIGITS,
    KEEP_FIRST,
    KEEP_LAST,
    SEPARATORS,
    luhn_ok,
    mask_fields,
    mask_pans,
)
from tests.cards import card_in_text, digits_and_stars

CASES = json.loads((Path(__file__).parents[1] / "cases" / "pan.json").read_text(encoding="utf-8"))
EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))
DIGIT_CHARACTERS = [ch for ch in EVERY_CHARACTER if unicodedata.digit(ch, None) is not None]
SEPARATOR_CHARACTERS = re.findall(f"[{SEPARATORS}]", EVERY_CHARACTER)


def why(case: dict) -> str:
    return case["why"]


@pytest.mark.parametrize("case", CASES["masked"], ids=why)
def test_card_numbers_are_masked(case):
    assert mask_pans(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", CASES["untouched"], ids=why)
def test_other_text_is_untouched(case):
    assert mask_pans(case["text"]) == case["text"]


@pytest.mark.parametrize("case", CASES["fields"], ids=why)
def test_the_fields_of_a_record_are_masked_together(case):
    assert mask_fields(case["values"]) == case["expected"]


@pytest.mark.parametrize("case", CASES["masked"] + CASES["fields"], ids=why)
def test_masking_twice_changes_nothing(case):
    if "values" in case:
        assert mask_fields(case["expected"]) == case["expected"]
    else:
        assert mask_pans(case["expected"]) == case["expected"]


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("79927398713", True),
        ("6222021234567890128", True),
        ("378282246310005", True),
        ("４１１１１１１１１１１１１１１１", True),  # any script: digit values count
        ("④①①①①①①①①①①①①①①②", False),
    ],
)
def test_luhn(digits, ok):
    assert luhn_ok(digits) is ok


def test_digits_are_the_characters_unicodedata_gives_a_digit_value():
    assert re.findall(f"[{DIGITS}]", EVERY_CHARACTER) == DIGIT_CHARACTERS


def test_separators_are_whitespace_zero_width_dashes_and_some_punctuation():
    expected = [
        ch for ch in EVERY_CHARACTER
        if ch.isspace() or unicodedata.category(ch) == "Pd" or ch in "\u200b\u200c\u200d\u2060\ufeff\xad\u2212./_,。／，"
    ]
    assert SEPARATOR_CHARACTERS == expected


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(card_in_text())
def test_no_card_number_survives_however_it_is_written(example):
    text, card, positions = example
    masked = mask_pans(text)
    assert len(masked) == len(text)
    assert "".join(map(str, card)) not in digits_and_stars(masked)
    # Its middle, checked by place rather than as a substring: three middle digits may well recur
    # by chance among the ten that stay.
    assert all(masked[p] == "*" for p in positions[KEEP_FIRST:-KEEP_LAST])
    assert mask_pans(masked) == masked
