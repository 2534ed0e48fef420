"""Compliance: which shops did their prevention checklists, period by period (server/periods.py).

The matrix shows, a page of shops at a time, each checklist's current period and its last 12
ended ones (done on time, done late, missed, due, not expected), with the problem items found;
a shop's page drills down to every run. The summary shows each region's share of ended periods
done on time, over every shop in the user's scope.
"""

from collections import Counter

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from markupsafe import Markup, escape

from server import periods, queries
from server.office.access import check_filters
from server.office.forms import ComplianceQuery, read
from server.office.render import Renderer
from server.periods import Cell, Period, RunSeen
from server.queries import OfficeUser
from server.store import Store, now
from sync.errors import NotFound

SHOPS_PAGE = 50


class Column(msgspec.Struct, frozen=True):
    """One checklist of one shop: its periods, oldest first (the last is the current one)."""

    checklist: str
    periods: list[Period]
    cells: list[Cell]

    @property
    def current(self) -> Cell:
        return self.cells[-1]

    @property
    def past(self) -> list[tuple[Period, Cell]]:
        return list(zip(self.periods[:-1], self.cells[:-1], strict=True))

    @property
    def counts(self) -> Counter:
        return Counter(cell.state for cell in self.cells[:-1])

    def strip(self, states: dict[str, str], problems: str) -> Markup:
        """The past periods as small squares, each titled with its day and state (built here, not in
        the template: 50 shops × 4 checklists × 12 periods were most of the page's time)."""
        return Markup("".join(
            f'<span class="p s-{cell.state}" title="{period.start} {escape(states[cell.state])}'
            + (f" · {escape(problems.format(count=cell.problems))}" if cell.problems else "") + '"></span>'
            for period, cell in zip(self.periods[:-1], self.cells[:-1], strict=True)))


class ShopLine(msgspec.Struct, frozen=True):
    shop: queries.ComplianceShop
    columns: list[Column]


def windows(render: Renderer) -> dict[str, list[Period]]:
    """Each checklist's periods shown (the last 12 ended and the current one), today in the office's zone."""
    today = render.clock.local(now()).date()
    return {c.id: periods.periods(c, today, render.clock) for c in render.library.checklists.values()}


def lines(shops: list[queries.ComplianceShop], runs: list[queries.PeriodRun], shown: dict[str, list[Period]]
          ) -> list[ShopLine]:
    by_cell: dict[tuple[int, str, str], list[RunSeen]] = {}
    for run in runs:
        by_cell.setdefault((run.shop_id, run.checklist, run.period), []).append(
            RunSeen(run.id, run.completed_at, run.problems, run.received_at))
    return [ShopLine(shop, [Column(checklist, list(window), [
        periods.cell(p, by_cell.get((shop.id, checklist, p.start.isoformat()), []), shop.enrolled_at) for p in window])
        for checklist, window in shown.items()]) for shop in shops]


def read_matrix(db, scope, shown: dict[str, list[Period]], region: str | None, after: int, limit: int,
                shop: int | None = None) -> list[ShopLine]:
    """A page of the matrix: its shops and their runs for the periods shown."""
    shops = queries.compliance_shops(db, scope, region, after, limit, shop)
    runs = queries.period_runs(db, scope, [s.id for s in shops], {c: w[0].start.isoformat() for c, w in shown.items()})
    return lines(shops, runs, shown)


@get("/compliance", sync_to_thread=True)
def compliance(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """Shops × checklists: this period and the last 12 of each, and each region's share done on time."""
    query = read(request.query_params, ComplianceQuery)
    user: OfficeUser = request.user
    after = int(query.after) if query.after and query.after.isdigit() else 0
    shown = windows(render)
    ended = [p for window in shown.values() for p in window if not p.current]
    with store.read() as db:
        check_filters(db, user, query.shop, query.region)
        matrix = read_matrix(db, user.scope, shown, query.region, after, SHOPS_PAGE, query.shop)
        shares = queries.compliance_by_region(db, user.scope, ended, query.region)
        regions = queries.regions(db, user.scope)
    more = str(matrix[-1].shop.id) if len(matrix) == SHOPS_PAGE else None
    return render(request, "compliance.html", query=query, matrix=matrix, shares=shares, regions=regions, next=more,
                  checklists=list(shown))


@get("/compliance/{shop_id:int}", sync_to_thread=True)
def shop_compliance(request: Request, shop_id: FromPath[int], store: NamedDependency[Store],
                    render: NamedDependency[Renderer]) -> Response:
    """One shop's periods of every checklist, each with the runs that did it (a drill-down to each run)."""
    user: OfficeUser = request.user
    shown = windows(render)
    with store.read() as db:
        found = read_matrix(db, user.scope, shown, None, shop_id - 1, 1, shop_id)
        if not found or found[0].shop.id != shop_id:
            raise NotFound(f"shop {shop_id}: no such shop among the shops you may see")
        runs = queries.period_runs(db, user.scope, [shop_id], {c: w[0].start.isoformat() for c, w in shown.items()})
    every: dict[tuple[str, str], list[queries.PeriodRun]] = {}
    for run in sorted(runs, key=lambda r: r.completed_at):
        every.setdefault((run.checklist, run.period), []).append(run)
    return render(request, "compliance_shop.html", line=found[0], runs=every)
