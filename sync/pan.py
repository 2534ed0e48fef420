"""Card numbers (PANs) masked out of free text before anything stores it.

A candidate is a run of digits in which single spaces or dashes may separate groups, e.g.
"6222 0212 3456 7890" or "4111-1111-1111-1111". Within a run, a candidate is a span of whole
groups holding 13 to 19 digits in all (a run without separators is one group); the longest span
that passes the Luhn check, leftmost first, is masked. Masking keeps the first 6 and the last 4
digits and replaces every other digit by "*", leaving the separators where they were, so
"4111 1111 1111 1111" becomes "4111 11** **** 1111". Numbers that fail Luhn (order numbers, phone
numbers) are left untouched. Masked text holds no run of 13 digits, so masking twice changes
nothing: the server masking what an honest phone already masked is a no-op.

Unicode digits count too (full-width "４１１１" typed with a Chinese input method is still a card
number).
"""

import re

# A maximal run: digits, with at most one space or dash between two digits, holding at least 13
# digits (the lookahead), so short numbers never reach the Python side. The first digit must not
# follow another digit ("(?<!\d\d)" once it is matched), so a run never starts inside a longer
# number. Starting the pattern with \d lets the regex engine skip quickly to the next digit.
_RUN = re.compile(r"\d(?<!\d\d)(?=(?:[ -]?\d){12})\d*(?:[ -]\d+)*")
_GROUP = re.compile(r"\d+")
MIN_DIGITS, MAX_DIGITS = 13, 19
KEEP_FIRST, KEEP_LAST = 6, 4


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn check used by every card number."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_pans(text: str) -> str:
    """The text with every card number in it masked to its first 6 and last 4 digits."""
    if len(text) < MIN_DIGITS:
        return text
    return _RUN.sub(_mask_run, text)


def _mask_run(match: re.Match) -> str:
    run = match.group()
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(run)]
    chars = list(run)
    changed = False
    i = 0
    while i < len(groups):
        span = _longest_card(run, groups, i)
        if span is None:
            i += 1
            continue
        _mask_span(chars, groups[i][0], groups[span][1])
        changed = True
        i = span + 1
    return "".join(chars) if changed else run


def _longest_card(run: str, groups: list[tuple[int, int]], first: int) -> int | None:
    """The index of the last group of the longest Luhn-valid span starting at group `first`."""
    digits, ends = "", []
    for j in range(first, len(groups)):
        start, end = groups[j]
        digits += run[start:end]
        if len(digits) > MAX_DIGITS:
            break
        ends.append((j, digits))
    for j, candidate in reversed(ends):
        if len(candidate) >= MIN_DIGITS and luhn_ok(candidate):
            return j
    return None


def _mask_span(chars: list[str], start: int, end: int) -> None:
    positions = [k for k in range(start, end) if chars[k].isdigit()]
    for k in positions[KEEP_FIRST:len(positions) - KEEP_LAST]:
        chars[k] = "*"
