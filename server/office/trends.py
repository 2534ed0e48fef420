"""Trends: what the incidents say over weeks, drawn as SVG on the server, each chart with its table.

Incidents per code per week; resolved in the shop against escalated; the shops, terminal models
and acquirers with the most incidents; median and 90th-percentile time to resolve per code; for
each flow, the step at which incidents were fixed (the funnel the phones get through pull); and,
from the transactions the shops told (issue 12), incidents by card entry mode and by amount band.

Weeks start on Monday in head office's time zone. Amount bands, in the transaction's currency:
under 100, 100 to 1,000, 1,000 to 5,000, and 5,000 or more: small purchases, an ordinary basket,
a large one, and what a shop would follow up with its acquirer at once (tied to no currency's
rules; a chain in one currency reads them as such).
"""

import bisect
import math
from collections import Counter
from datetime import timedelta

from litestar import Request, Response, get
from litestar.di import NamedDependency

from server import queries
from server.office import charts
from server.office.access import check_filters
from server.office.charts import Chart
from server.office.forms import TrendQuery, read
from server.office.render import Renderer
from server.periods import start_of
from server.queries import AMOUNT_BANDS, OfficeUser, TrendFilter, TrendRow
from server.store import Store, now

WEEKS = {30: 5, 90: 13, 365: 52}
TOP_CODES = 5  # codes drawn by name in the weekly chart; the rest are "other codes"
ENTRY_MODES = ("chip", "contactless", "swipe", "qr", "manual")


def bounds(render: Renderer, days: int) -> tuple[TrendFilter, list[str], list[str]]:
    """The filter's start, the weeks' bounds (UTC text, one more than the weeks) and their first days."""
    today = render.clock.local(now()).date()
    monday = start_of("weekly", today)
    firsts = [monday - timedelta(weeks=n) for n in range(WEEKS[days] - 1, -1, -1)]
    edges = [render.clock.start_of(day) for day in [*firsts, monday + timedelta(weeks=1)]]
    return TrendFilter(start=render.clock.start_of(today - timedelta(days=days - 1))), edges, firsts


def duration(seconds: float, t) -> str:
    if seconds < 3600:
        return t("trends.minutes", count=round(seconds / 60))
    if seconds < 86400 * 2:
        return t("trends.hours", count=round(seconds / 3600, 1))
    return t("trends.days", count=round(seconds / 86400, 1))


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return values[max(0, math.ceil(share * len(values)) - 1)]


def tally(rows: list[TrendRow], edges: list[str], register: dict) -> dict[str, Counter | dict]:
    """Every chart's counts from the window's incidents, in one walk."""
    weeks = len(edges) - 1
    found = {name: Counter() for name in ("weekly", "outcomes", "shops", "models", "acquirers", "fixes", "entry",
                                          "amount")}
    names, seconds = {}, {}
    for row in rows:
        week = bisect.bisect_right(edges, row.opened_at) - 1
        if 0 <= week < weeks:
            found["weekly"][row.code, week] += 1
            found["outcomes"][row.status, week] += 1
        found["shops"][row.shop_id] += 1
        names[row.shop_id] = row.shop
        model, acquirer = register.get((row.shop_id, row.terminal), (None, None))
        found["models"][model] += 1
        found["acquirers"][acquirer] += 1
        if row.status != "open":
            found["fixes"][row.code, row.status, row.resolved_at_step] += 1
        if row.status == "resolved" and row.seconds is not None:
            seconds.setdefault(row.code, []).append(row.seconds)
        found["entry"][row.tx_entry] += 1
        band = None if row.tx_amount is None else bisect.bisect_right(AMOUNT_BANDS, row.tx_amount)
        found["amount"][(row.tx_currency, band) if band is not None else (None, None)] += 1
    return {**found, "names": names, "seconds": seconds}


def build(counts: dict, firsts: list, render: Renderer, lang: str) -> list[Chart]:
    t, titles = render.translators[lang], render.titles[lang]
    ticks = [day.strftime("%m-%d") for day in firsts]
    weeks = range(len(firsts))
    found = []

    # incidents per code per week
    totals = Counter()
    for (code, _), count in counts["weekly"].items():
        totals[code] += count
    named = sorted(totals, key=lambda c: (-totals[c], c))[:TOP_CODES]
    weekly = {code: [counts["weekly"][code, w] for w in weeks] for code in named}
    other = [sum(n for (code, w), n in counts["weekly"].items() if w == week and code not in named) for week in weeks]
    series = [(titles.code(code), values) for code, values in weekly.items()]
    if any(other):
        series.append((t("trends.other_codes"), other))
    found.append(Chart("weekly", t("trends.weekly"), charts.columns(t("trends.weekly"), ticks, series),
                       [t("trends.week"), *(name for name, _ in series)],
                       [[day.isoformat(), *(values[i] for _, values in series)] for i, day in enumerate(firsts)]))

    # resolved in the shop against escalated, per week
    series = [(t(f"outcome.{status}"), [counts["outcomes"][status, w] for w in weeks])
              for status in ("resolved", "escalated", "open")]
    found.append(Chart("outcomes", t("trends.outcomes"), charts.columns(t("trends.outcomes"), ticks, series),
                       [t("trends.week"), *(name for name, _ in series)],
                       [[day.isoformat(), *(values[i] for _, values in series)] for i, day in enumerate(firsts)]))

    # the most incidents
    unknown = t("trends.not_registered")
    tops = {"shops": [(counts["names"][shop], n) for shop, n in sorted(counts["shops"].items(),
                                                                         key=lambda kv: (-kv[1], kv[0]))[:10]],
            "models": [(m or unknown, n) for m, n in counts["models"].most_common(10)],
            "acquirers": [(a or unknown, n) for a, n in counts["acquirers"].most_common(10)]}
    for key, top in tops.items():
        bars = [(label, n, str(n)) for label, n in top]
        found.append(Chart(key, t(f"trends.{key}"), charts.hbars(t(f"trends.{key}"), bars),
                           [t(f"trends.{key}_col"), t("trends.incidents")], [[label, shown] for label, _, shown in bars]))

    # time to resolve
    pairs, table = [], []
    for code, values in sorted(counts["seconds"].items(), key=lambda kv: (-len(kv[1]), kv[0])):
        values.sort()
        median, p90 = percentile(values, 0.5), percentile(values, 0.9)
        shown = [duration(median, t), duration(p90, t)]
        pairs.append((t("trends.resolved_of", code=titles.code(code), count=len(values)),
                      [(median, shown[0]), (p90, shown[1])]))
        table.append([titles.code(code), len(values), *shown])
    names = [t("trends.median"), t("trends.p90")]
    found.append(Chart("resolve", t("trends.resolve"), charts.paired_bars(t("trends.resolve"), pairs, names),
                       [t("col.code"), t("trends.resolved_count"), *names], table))

    # the funnel of each flow (what the phones get through pull: server/learned.py)
    flows: dict[str, dict] = {}
    for (code, status, step), count in counts["fixes"].items():
        known = render.library.codes.get(code)
        if known is None or not known.flow or known.flow not in render.library.flows:
            continue
        flow = flows.setdefault(known.flow, {"total": 0, "escalated": 0, "steps": Counter()})
        flow["total"] += count
        if status == "escalated":
            flow["escalated"] += count
        elif step:
            flow["steps"][step] += count
    for flow_id, flow in sorted(flows.items()):
        total = flow["total"]
        bars = [(titles.step(flow_id, s.id), flow["steps"][s.id]) for s in render.library.flows[flow_id].steps]
        bars.append((t("trends.escalated"), flow["escalated"]))
        bars = [(label, value, f"{value} · {round(100 * value / total)}%") for label, value in bars]
        title = t("trends.funnel", flow=t.text(render.library.flows[flow_id].title), total=total)
        found.append(Chart(f"funnel-{flow_id}", title, charts.hbars(title, bars, series=2),
                           [t("trends.step"), t("trends.fixed_here")], [[label, shown] for label, _, shown in bars],
                           note=t("trends.funnel_note")))

    # the transactions told: entry mode and amount band
    entries = Counter({mode: 0 for mode in (*ENTRY_MODES, None)})
    for mode, count in counts["entry"].items():
        entries[mode if mode in ENTRY_MODES else None] += count
    bars = [(t(f"tx.entry.{mode}") if mode else t("trends.not_told"), count, str(count))
            for mode, count in entries.items()]
    found.append(Chart("entry", t("trends.entry"), charts.hbars(t("trends.entry"), bars, series=3),
                       [t("tx.entry"), t("trends.incidents")], [[label, shown] for label, _, shown in bars]))
    bars = [(band_label(currency, band, t), count, str(count))
            for (currency, band), count in sorted(counts["amount"].items(),
                                                  key=lambda kv: (kv[0][0] is None, kv[0][0] or "", kv[0][1] or 0))]
    found.append(Chart("amount", t("trends.amount"), charts.hbars(t("trends.amount"), bars, series=4),
                       [t("trends.band"), t("trends.incidents")], [[label, shown] for label, _, shown in bars],
                       note=t("trends.amount_note")))
    return found


def band_label(currency: str | None, band: int | None, t) -> str:
    if band is None:
        return t("trends.not_told")
    edges = [f"{edge:,}" for edge in AMOUNT_BANDS]
    if band == 0:
        return t("trends.band_under", to=edges[0], currency=currency)
    if band == len(AMOUNT_BANDS):
        return t("trends.band_over", start=edges[-1], currency=currency)
    return t("trends.band_between", start=edges[band - 1], to=edges[band], currency=currency)


@get("/trends", sync_to_thread=True)
def trends(request: Request, store: NamedDependency[Store], render: NamedDependency[Renderer]) -> Response:
    """Incidents over time, by shop, terminal, acquirer, step and transaction, as charts with tables."""
    query = read(request.query_params, TrendQuery)
    user: OfficeUser = request.user
    days = query.days or 90
    f, edges, firsts = bounds(render, days)
    f = TrendFilter(start=f.start, region=query.region, shop=query.shop)
    with store.read() as db:
        check_filters(db, user, query.shop, query.region)
        rows = queries.trend_rows(db, user.scope, f)
        register = queries.terminal_register(db, user.scope)
        regions = queries.regions(db, user.scope)
    counts = tally(rows, edges, register)
    return render(request, "trends.html", query=query, charts=build(counts, firsts, render, user.lang),
                  regions=regions, days=days)
