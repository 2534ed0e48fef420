"""Checklist periods as head office counts them: which periods each checklist's schedule asks for,
when each falls due, and whether a shop's runs did it on time, late, or not at all.

The phone names the period a run covers (its first day: the day, the ISO week from Monday, the
month, the quarter; pwa/static/js/checklist.js) and the office computes the same periods from the
content's schedules, in head office's time zone (settings.timezone). A period falls due on its
schedule's day (a weekly list's weekday, a monthly list's day, a quarterly list's month and day;
a daily list on the day itself) and ends when the next one starts.

- done on time: the first run for the period was completed (the phone's clock) before the end of
  its due day; done late: after it, whenever it reached head office (a run synced a week late
  counts in its own period, by when it was done);
- missed: the period has ended with no run, and the shop was expected to do it;
- due: the current period, not done yet;
- not expected: before the shop's enrollment, which is when its first device enrolled. A shop
  created in the register only starts its prevention work once a phone can record it: counting
  from the shop's creation would blame the shop for the time the roll-out took. A period counts
  when the shop was enrolled before the end of its due day.
"""

from datetime import date, timedelta

import msgspec

from content.types import Checklist

FREQUENCIES = ("daily", "weekly", "monthly", "quarterly")
PAST = 12  # ended periods shown beside the current one


def start_of(frequency: str, day: date) -> date:
    """The first day of the period `day` falls in."""
    if frequency == "weekly":
        return day - timedelta(days=day.weekday())
    if frequency == "monthly":
        return day.replace(day=1)
    if frequency == "quarterly":
        return date(day.year, day.month - (day.month - 1) % 3, 1)
    return day


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def following(frequency: str, start: date) -> date:
    """The first day of the period after the one starting on `start`."""
    if frequency == "weekly":
        return start + timedelta(days=7)
    if frequency == "monthly":
        return _add_months(start, 1)
    if frequency == "quarterly":
        return _add_months(start, 3)
    return start + timedelta(days=1)


def preceding(frequency: str, start: date) -> date:
    if frequency == "weekly":
        return start - timedelta(days=7)
    if frequency == "monthly":
        return _add_months(start, -1)
    if frequency == "quarterly":
        return _add_months(start, -3)
    return start - timedelta(days=1)


def due_day(checklist: Checklist, start: date) -> date:
    """The day within the period starting on `start` on which the checklist falls due."""
    schedule = checklist.schedule
    if checklist.frequency == "weekly":
        return start + timedelta(days=(schedule.weekday or 1) - 1)
    if checklist.frequency == "monthly":
        return start.replace(day=schedule.day or 1)
    if checklist.frequency == "quarterly":
        return _add_months(start, (schedule.month_of_quarter or 1) - 1).replace(day=schedule.day or 1)
    return start


def window(frequency: str, today: date, past: int = PAST) -> list[date]:
    """The starts of the last `past` ended periods and the current one, oldest first."""
    starts = [start_of(frequency, today)]
    for _ in range(past):
        starts.append(preceding(frequency, starts[-1]))
    return starts[::-1]


class Period(msgspec.Struct, frozen=True):
    """One period of a checklist, its bounds as the UTC text the database holds."""

    checklist: str
    start: date
    due: date
    due_end: str  # the first instant after the due day (UTC): done before it is on time
    end: str  # the first instant of the next period (UTC)
    current: bool


def periods(checklist: Checklist, today: date, clock, past: int = PAST) -> list[Period]:
    """The checklist's last `past` ended periods and its current one, oldest first, in the clock's zone."""
    found = []
    for start in window(checklist.frequency, today, past):
        due = due_day(checklist, start)
        found.append(Period(checklist=checklist.id, start=start, due=due, due_end=clock.end_of(due),
                            end=clock.start_of(following(checklist.frequency, start)),
                            current=start == start_of(checklist.frequency, today)))
    return found


class RunSeen(msgspec.Struct, frozen=True):
    """A run as the matrix needs it."""

    id: str
    completed_at: str
    problems: int
    received_at: str


class Cell(msgspec.Struct, frozen=True):
    """A shop's state for one period of one checklist."""

    state: str  # on_time, late, missed, due, none (not expected)
    run: RunSeen | None = None  # the run that did it (the first by when it was done)
    runs: int = 0
    problems: int = 0  # problem items of the latest run
    arrived_late: bool = False  # reached head office after the period ended


def cell(period: Period, runs: list[RunSeen], enrolled_at: str | None) -> Cell:
    """The state of one period for one shop, from its runs for that period and its enrollment."""
    if runs:
        ordered = sorted(runs, key=lambda r: (r.completed_at, r.id))
        first, latest = ordered[0], ordered[-1]
        return Cell(state="on_time" if first.completed_at < period.due_end else "late", run=first, runs=len(runs),
                    problems=latest.problems, arrived_late=first.received_at >= period.end)
    if enrolled_at is None or enrolled_at >= period.due_end:
        return Cell(state="none")
    return Cell(state="due" if period.current else "missed")
