"""Card numbers in free text are masked to first 6 / last 4; other numbers are left alone."""

import pytest

from sync.pan import luhn_ok, mask_pans


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111111111111111 swallowed", "card 411111******1111 swallowed"),
        ("4111 1111 1111 1111", "4111 11** **** 1111"),
        ("4111-1111-1111-1111", "4111-11**-****-1111"),
        ("银联卡 6222021234567890128 吞卡", "银联卡 622202*********0128 吞卡"),
        ("amex 378282246310005.", "amex 378282*****0005."),
        ("1: 4111111111111111, 2: 5555555555554444", "1: 411111******1111, 2: 555555******4444"),
        # full-width digits from a Chinese input method are digits all the same
        ("卡号４１１１１１１１１１１１１１１１", "卡号４１１１１１******１１１１"),
        # a card number followed by its expiry in the same run of groups
        ("4111 1111 1111 1111 12 25", "4111 11** **** 1111 12 25"),
    ],
)
def test_card_numbers_are_masked(text, expected):
    assert mask_pans(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "order 4111111111111112 refund",  # 16 digits failing Luhn: an order number
        "电话 13800138000",  # 11 digits: too short
        "terminal SN 12345678901234567890123",  # 23 digits in one group: not a card number
        "at 2026-05-01 10:30, amount 12.50",
        "T2 error again",
    ],
)
def test_other_text_is_untouched(text):
    assert mask_pans(text) == text


def test_masking_twice_changes_nothing():
    once = mask_pans("paid with 4111 1111 1111 1111 and 5555555555554444")
    assert mask_pans(once) == once


@pytest.mark.parametrize(("digits", "ok"), [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)])
def test_luhn(digits, ok):
    assert luhn_ok(digits) is ok
