"""Card numbers (PANs) masked out of free text before anything stores it.

The rule, the same in the phone's pwa/static/js/mask.js, pinned by tests/cases/pan.json:

- A digit is any character with a Unicode digit value (unicodedata.digit): ASCII, full-width,
  other scripts, superscripts, circled... A separator is whitespace, a zero-width character, a
  dash, or one of . 。 / ／ _ , ，
- A run is a maximal sequence of digits with at most 3 separators between two of them; its groups
  are its unbroken sequences of digits.
- Candidates: in a run of at most 19 digits, the spans of whole groups holding 13-19 digits (a
  merchant id written as one number is judged whole); in a longer run, every window of 13-19
  digits (a card number glued to its expiry, or to other digits).
- Each candidate that passes Luhn keeps its first 6 and last 4 digits; its other digits become
  "*", separators stay. Track 1 and track 2 data become "*" whole, expiry and service code too.
- Masking repeats until nothing changes, so masking twice is masking once: the server re-masks
  what a phone masked.
- mask_fields also joins the digits ending one value to those starting another, for a card number
  split between two fields of one record.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from typing import NamedTuple

MIN_DIGITS, MAX_DIGITS = 13, 19
KEEP_FIRST, KEEP_LAST = 6, 4
MAX_GAP = 3  # separators between two digits of one run: "4111 / 1111" is one number

# Regex class bodies. \d is every decimal digit of this Python's unicodedata; the rest are the
# digits that are not decimal (superscripts, circled...). Both lists, and mask.js's copies, are
# checked against unicodedata by the tests, so they cannot drift.
DIGITS = (
    "\\d\xb2-\xb3\xb9\u1369-\u1371\u19da\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247c"
    "\u2488-\u2490\u24ea\u24f5-\u24fd\u24ff\u2776-\u277e\u2780-\u2788\u278a-\u2792"
    "\U00010a40-\U00010a43\U00010e60-\U00010e68\U00011052-\U0001105a\U0001f100-\U0001f10a"
)
SEPARATORS = (
    "\t-\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # str.isspace()
    "\u200b-\u200d\u2060\ufeff\xad"  # zero-width
    "\\-\u058a\u05be\u1400\u1806\u2010-\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0"
    "\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead\u2212"  # dashes: category Pd, and the minus sign
    "./_,\u3002\uff0f\uff0c"
)

_GAP_DIGIT = f"[{SEPARATORS}]{{0,{MAX_GAP}}}[{DIGITS}]"
_RUN = f"[{DIGITS}](?:{_GAP_DIGIT})*"
# The lookahead skips runs too short to hold a card number (dates, amounts) inside the regex
# engine: only a run can start there, as a later digit of the same run sees fewer digits ahead.
_LONG_RUN = re.compile(f"[{DIGITS}](?=(?:{_GAP_DIGIT}){{{MIN_DIGITS - 1}}})(?:{_GAP_DIGIT})*")
_EDGE_RUN = re.compile(f"[{SEPARATORS}]*({_RUN})")
# Possessive, so the engine never gives back what it skipped: a note of 40 characters without
# digits costs one pass, 0.4 µs in all.
_ENOUGH_DIGITS = re.compile(f"(?:[^{DIGITS}]*+[{DIGITS}]){{{MIN_DIGITS}}}")
_PAN = f"[{DIGITS}]{{{MIN_DIGITS},{MAX_DIGITS}}}"
_TRACK = re.compile(
    f";?{_PAN}[=D][{DIGITS}]{{4,}}\\??"  # track 2: expiry, service code, discretionary data
    f"|%?B{_PAN}\\^[^^]{{0,26}}\\^[{DIGITS}]{{4,}}\\??"  # track 1: a name of 26 chars at most (ISO 7813)
)
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # a doubled digit's Luhn contribution


class _Run(NamedTuple):
    """The digits of a run: where each sits in its text, its value, and which begin or end a group."""

    positions: list[int]
    values: list[int]
    group_starts: list[int]
    group_ends: list[int]  # just past a group's last digit


def luhn_ok(digits: str) -> bool:
    """True when the digits, in any script, pass the Luhn check that every card number passes."""
    values = [unicodedata.digit(ch) for ch in reversed(digits)]
    return sum(_DOUBLED[v] if i % 2 else v for i, v in enumerate(values)) % 10 == 0


def may_hold_pan(text: str) -> bool:
    """Whether text has digits enough (13, in any script) to hold a card number: the quick test first."""
    return _ENOUGH_DIGITS.match(text) is not None


def mask_pans(text: str) -> str:
    """The text with every card number in it masked to its first 6 and last 4 digits, track data whole."""
    while _ENOUGH_DIGITS.match(text) and (masked := _mask_once(text)) != text:
        text = masked
    return text


def mask_fields(values: list[str]) -> list[str]:
    """Each value masked, and so is a card number split between the end of one and the start of another."""
    masked = [mask_pans(value) for value in values]
    while (again := [mask_pans(value) for value in _mask_across(masked)]) != masked:
        masked = again
    return masked


def _mask_once(text: str) -> str:
    text = _TRACK.sub(lambda track: "*" * len(track.group()), text)
    return _LONG_RUN.sub(_mask_run, text)


def _mask_run(match: re.Match) -> str:
    text = match.group()
    run = _read_run(text, 0, len(text))
    return _star(text, [run.positions[i] for i in _hidden(_passing_windows(run))])


def _mask_across(values: list[str]) -> list[str]:
    """The values with the digits of every card number that starts in one and ends in another masked."""
    heads = {i: run for i, value in enumerate(values) if (run := _leading_run(value))}
    tails = {i: run for i, value in enumerate(values) if (run := _trailing_run(value))}
    hidden = defaultdict(list)
    for i, tail in tails.items():
        split = len(tail.values)
        for j, head in heads.items():
            if i == j:
                continue
            joined = _join_runs(tail, head)
            # A window within one value was that value's own to judge (mask_pans did).
            crossing = (w for w in _passing_windows(joined) if w[0] < split < w[1])
            for k in _hidden(crossing):
                hidden[i if k < split else j].append(joined.positions[k])
    return [_star(value, hidden[i]) for i, value in enumerate(values)]


def _join_runs(tail: _Run, head: _Run) -> _Run:
    split = len(tail.values)
    return _Run(
        tail.positions + head.positions,
        tail.values + head.values,
        tail.group_starts + [split + k for k in head.group_starts],
        tail.group_ends + [split + k for k in head.group_ends],
    )


def _leading_run(text: str) -> _Run | None:
    span = _edge_span(text)
    return span and _read_run(text, *span)


def _trailing_run(text: str) -> _Run | None:
    # A run reads the same both ways, so the reversed text's leading run is the trailing run.
    span = _edge_span(text[::-1])
    return span and _read_run(text, len(text) - span[1], len(text) - span[0])


def _edge_span(text: str) -> tuple[int, int] | None:
    """Where the run of digits that starts text, past any separators, begins and ends."""
    match = _EDGE_RUN.match(text)
    return match and match.span(1)


def _read_run(text: str, start: int, end: int) -> _Run:
    run = _Run([], [], [], [])
    for i in range(start, end):
        value = unicodedata.digit(text[i], None)
        if value is None:
            continue
        if not run.positions or run.positions[-1] != i - 1:
            if run.positions:
                run.group_ends.append(len(run.values))
            run.group_starts.append(len(run.values))
        run.positions.append(i)
        run.values.append(value)
    run.group_ends.append(len(run.values))
    return run


def _passing_windows(run: _Run) -> Iterator[tuple[int, int]]:
    """(first, end) digit indices of each of the run's candidates that passes Luhn."""
    values = run.values
    if len(values) > MAX_DIGITS:
        starts, ends = range(len(values)), range(MIN_DIGITS, len(values) + 1)
    else:
        starts, ends = set(run.group_starts), [end for end in run.group_ends if end >= MIN_DIGITS]
    for end in ends:
        # Luhn sums from the right: growing the window leftwards adds one digit to the sum, so
        # all the windows ending here cost 19 steps, and a long run of digits stays linear.
        total = 0
        for length in range(1, min(end, MAX_DIGITS) + 1):
            value = values[end - length]
            total += _DOUBLED[value] if length % 2 == 0 else value
            if length >= MIN_DIGITS and total % 10 == 0 and end - length in starts:
                yield end - length, end


def _hidden(windows: Iterable[tuple[int, int]]) -> set[int]:
    """The digit indices that the windows mask: all but each window's first 6 and last 4."""
    return {i for first, end in windows for i in range(first + KEEP_FIRST, end - KEEP_LAST)}


def _star(text: str, positions: Collection[int]) -> str:
    if not positions:
        return text
    chars = list(text)
    for position in positions:
        chars[position] = "*"
    return "".join(chars)
