"""Card numbers as an outside probe wrote them, as hypothesis strategies: digits of any script,
groups with gaps of separators, digits glued or joined before and after, and text around. Shared
by the masking tests (tests/sync/test_pan.py) and the end-to-end ones (tests/server/test_api_events.py).
"""

import re
import sys
import unicodedata

from hypothesis import strategies as st

from sync.pan import MAX_DIGITS, MIN_DIGITS, SEPARATORS

EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))
DIGIT_CHARACTERS = [ch for ch in EVERY_CHARACTER if unicodedata.digit(ch, None) is not None]
SEPARATOR_CHARACTERS = re.findall(f"[{SEPARATORS}]", EVERY_CHARACTER)
SCRIPTS = [
    "0123456789",
    "".join(chr(0xFF10 + v) for v in range(10)),  # full-width
    "".join(chr(0x660 + v) for v in range(10)),  # Arabic-Indic
    "".join(chr(0x966 + v) for v in range(10)),  # Devanagari
    "".join(chr(0x1D7CE + v) for v in range(10)),  # mathematical bold
    "⁰¹²³⁴⁵⁶⁷⁸⁹",
    "₀₁₂₃₄₅₆₇₈₉",
    "⓪①②③④⑤⑥⑦⑧⑨",
]
DIGITS_OF_VALUE = [[ch for ch in DIGIT_CHARACTERS if unicodedata.digit(ch) == v] for v in range(10)]
gaps = st.text(st.sampled_from(SEPARATOR_CHARACTERS), min_size=1, max_size=3)
apart = st.sampled_from(["x", "号", ":", " " * 4, "/ - /"])  # not a separator, or more than 3
surroundings = st.text(st.characters(categories=["L"]) | st.just(" "), max_size=12)


def digit_values(fewest: int, most: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, 9), min_size=fewest, max_size=most)


@st.composite
def card_numbers(draw) -> list[int]:
    """The digit values of a Luhn-valid card number of 13-19 digits."""
    body = draw(digit_values(MIN_DIGITS - 1, MAX_DIGITS - 1))
    doubled = [(2 * v - 9 if v > 4 else 2 * v) if i % 2 == 0 else v for i, v in enumerate(reversed(body))]
    return [*body, -sum(doubled) % 10]


@st.composite
def card_in_text(draw) -> tuple[str, list[int], list[int]]:
    """A text, the values of the card number in it, and where each of its digits sits."""
    card = draw(card_numbers())
    script = draw(st.sampled_from(SCRIPTS) | st.none())  # None: a script drawn for each digit

    def written(values: list[int]) -> str:
        if script:
            return "".join(script[v] for v in values)
        return "".join(draw(st.sampled_from(DIGITS_OF_VALUE[v])) for v in values)

    cuts = sorted(draw(st.sets(st.integers(1, len(card) - 1))))
    groups = [card[a:b] for a, b in zip([0, *cuts], [*cuts, len(card)])]
    before = draw(st.sampled_from(["nothing", "glued", "joined", "apart"]))
    prefix = draw(digit_values(1, 8)) if before != "nothing" else []
    suffix = draw(st.just([]) | digit_values(4, 7))
    run_digits = len(card) + len(suffix) + (len(prefix) if before in ("glued", "joined") else 0)
    # Digits glued to a card number hide it in a longer group, which the rule checks window by
    # window only in a run of more than 19 digits: pad the run to that.
    glued = before == "glued" or bool(suffix)
    padding = MAX_DIGITS + 1 - run_digits if glued and run_digits <= MAX_DIGITS else 0
    pad = draw(digit_values(padding, padding))
    text = draw(surroundings)
    if before == "joined":
        text += written(prefix) + draw(gaps)
    elif before == "apart":
        text += written(prefix) + draw(apart)
    elif before == "glued":
        text += written(prefix)
    text += written(pad)
    positions = []
    for i, group in enumerate(groups):
        if i:
            text += draw(st.just("") | gaps)
        positions += range(len(text), len(text) + len(group))
        text += written(group)
    return text + written(suffix) + draw(surroundings), card, positions




def digits_and_stars(text: str) -> str:
    """The text's digits, as ASCII, and its stars, in order; everything else left out."""
    return "".join(ch if ch == "*" else str(unicodedata.digit(ch, "")) for ch in text)
