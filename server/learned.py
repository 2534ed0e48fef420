"""What the chain learned, for the phones: per flow, how often each check fixed the problem.

The funnel of the office's trends, chain-wide, over the last WINDOW_DAYS days, goes down to every
phone in its pull (sync.types.FlowLearned), so a flow's step can say offline "fixed 38% of T2 in
the last 90 days". A flow is sent only once MIN_INCIDENTS of its incidents were closed in the
window: with 50, a share's 95% confidence interval is at most ±14 points (1.96·√(0.25/50)), so a
step that reads 38% is between about 24% and 52%; below that a figure would mislead more than it
tells. The figures change slowly and pull is called by every phone every few minutes, so they are
computed at most every CACHE_SECONDS per app server (one grouped read of the incidents of the
window through their time index, some 10 ms on a chain-sized database).
"""

import threading
import time
from datetime import UTC, datetime, timedelta

from content.load import Library
from server import queries
from server.store import Store
from sync.types import FlowLearned, StepLearned

WINDOW_DAYS = 90
MIN_INCIDENTS = 50
CACHE_SECONDS = 600


def learned_flows(rows: list[tuple[str, str, str | None, int]], library: Library,
                  minimum: int = MIN_INCIDENTS) -> list[FlowLearned]:
    """From (code, outcome, resolved at step, count) rows: each flow with enough closed incidents."""
    totals: dict[str, int] = {}
    fixed: dict[tuple[str, str], int] = {}
    for code, status, step, count in rows:
        found = library.codes.get(code)
        if found is None or found.flow is None or found.flow not in library.flows:
            continue
        totals[found.flow] = totals.get(found.flow, 0) + count
        if status == "resolved" and step:
            fixed[found.flow, step] = fixed.get((found.flow, step), 0) + count
    flows = []
    for flow_id, total in sorted(totals.items()):
        if total < minimum:
            continue
        steps = [StepLearned(step=step.id, percent=round(100 * fixed.get((flow_id, step.id), 0) / total))
                 for step in library.flows[flow_id].steps]
        flows.append(FlowLearned(flow=flow_id, incidents=total, steps=steps))
    return flows


class Learned:
    """The learned figures for pull, cached for CACHE_SECONDS."""

    def __init__(self, store: Store, library: Library, minimum: int = MIN_INCIDENTS):
        self.store, self.library, self.minimum = store, library, minimum
        self._lock = threading.Lock()
        self._value: list[FlowLearned] = []
        self._expires = 0.0

    def __call__(self) -> list[FlowLearned]:
        with self._lock:
            if time.monotonic() >= self._expires:
                since = (datetime.now(UTC) - timedelta(days=WINDOW_DAYS)).isoformat()
                with self.store.read() as db:
                    rows = queries.fixes_by_step(db, since)
                self._value = learned_flows(rows, self.library, self.minimum)
                self._expires = time.monotonic() + CACHE_SECONDS
            return self._value

    def forget(self) -> None:
        """Compute afresh at the next call (tests, and after a bulk import)."""
        with self._lock:
            self._expires = 0.0

    def __deepcopy__(self, memo) -> "Learned":
        return self  # a resource, shared rather than copied (see Store.__deepcopy__)
