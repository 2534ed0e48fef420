"""Compliance: periods from the content's schedules, missed ones per shop from its enrollment on,
a run synced late counted in its own period, the region summary, and the missed-checklist alert."""

import re
from datetime import date, timedelta

from content.load import load
from server import alerts, periods
from server.office.render import Clock
from tests.fixtures import add_shop, enroll, push
from tests.server.office.conftest import (
    enrolled_since,
    local_noon,
    local_today,
    office_of,
    run_event,
    set_region,
)

LIBRARY = load()
DAILY = {"power-battery": "ok", "paper": "ok"}
THIRD = "3c3c3c3c-1111-4222-8333-444444444444"


def test_periods_follow_the_schedules_as_the_phone_does():
    weekly, monthly, quarterly = (LIBRARY.checklists[c] for c in ("weekly", "monthly", "quarterly"))
    wednesday = date(2026, 11, 25)
    assert periods.start_of("weekly", wednesday) == date(2026, 11, 23)
    assert periods.due_day(weekly, date(2026, 11, 23)) == date(2026, 11, 23)  # Monday
    assert periods.start_of("quarterly", wednesday) == date(2026, 10, 1)
    assert periods.due_day(quarterly, date(2026, 10, 1)) == date(2026, 10, 5)
    assert periods.due_day(monthly, date(2026, 11, 1)) == date(2026, 11, 1)
    shown = periods.periods(weekly, wednesday, Clock("Asia/Shanghai"))
    assert len(shown) == 13 and shown[-1].current and not shown[0].current
    assert shown[0].start == date(2026, 8, 31)
    # Monday 00:00 in Shanghai is Sunday 16:00 UTC; the due day ends a day later.
    assert shown[-1].due_end == "2026-11-23T16:00:00+00:00" and shown[-1].end == "2026-11-29T16:00:00+00:00"


def test_a_period_is_on_time_late_missed_due_or_not_expected():
    clock = Clock("Asia/Shanghai")
    weekly = LIBRARY.checklists["weekly"]
    past, current = periods.periods(weekly, date(2026, 11, 25), clock)[-2:]
    on_time = periods.RunSeen("r1", "2026-11-16T03:00:00+00:00", 0, "2026-11-16T03:00:01+00:00")
    late = periods.RunSeen("r2", "2026-11-18T03:00:00+00:00", 2, "2026-11-25T03:00:00+00:00")
    enrolled = "2026-01-01T00:00:00+00:00"
    assert periods.cell(past, [late, on_time], enrolled).state == "on_time"
    cell = periods.cell(past, [late], enrolled)
    assert (cell.state, cell.problems, cell.arrived_late) == ("late", 2, True)
    assert periods.cell(past, [], enrolled).state == "missed"
    assert periods.cell(current, [], enrolled).state == "due"
    assert periods.cell(past, [], "2026-11-20T00:00:00+00:00").state == "none"  # enrolled after it fell due
    assert periods.cell(past, [], None).state == "none"


def section(html: str, checklist: str) -> str:
    part = html[html.index(f'id="c-{checklist}"'):]
    return part[:part.index("</section>")]


def cells_of(html: str, shop_name: str) -> str:
    row = html[html.index(shop_name):]
    return row[:row.index("</tr>")]


def test_a_shop_that_skipped_a_week_shows_it_missed_and_the_alert_fires_once(admin, client):
    shop = add_shop(client, "门店 Skip")
    set_region(client, shop, "门店 Skip", "华东 East")
    phone = enroll(client, shop)
    enrolled_since(client, shop, 30)
    today = local_today(client)
    skipped = {today - timedelta(days=n) for n in range(4, 11)}  # a week: 10 to 4 days ago
    runs = [run_event("daily", day, local_noon(client, day), DAILY) for day in
            (today - timedelta(days=n) for n in range(1, 20)) if day not in skipped]
    assert set(push(client, phone, *runs)) == {"stored"}

    page = admin.get("/office/compliance")
    assert page.status_code == 200
    row = cells_of(page.text, "门店 Skip")
    assert "漏做 7 期" in row  # the daily list: 7 of its last 12 days missed
    assert "过去 12 期：按时 5，逾期 0，漏做 7" in row
    detail = admin.get(f"/office/compliance/{shop}").text
    daily = section(detail, "daily")
    assert daily.count("state-missed") == 7 and daily.count("state-on_time") == 5

    # The worker runs the periodic rule every day of the week skipped and after: one alert, widened.
    office = office_of(client)
    store = client.app.state.store
    for n in range(9, 0, -1):
        with store.write() as db:
            alerts.evaluate_periodic(db, LIBRARY, office.render.clock, today - timedelta(days=n))
    daily_alerts = store.db.execute(
        "SELECT count, first_at, last_at FROM alerts WHERE kind = 'checklist_missed' AND subject = ?",
        [f"checklist:{shop}:daily"]).fetchall()
    assert len(daily_alerts) == 1
    assert daily_alerts[0][0] == 7  # the seven days of the streak
    listed = admin.get("/office/alerts").text
    assert "门店 Skip：每日开店检查 连续 7 期漏做" in listed


def test_a_run_synced_a_week_late_counts_in_its_own_period(admin, client, chain):
    phone = enroll(client, chain.east, THIRD, name="east phone again")
    enrolled_since(client, chain.east, 60)
    today = local_today(client)
    monday = periods.start_of("weekly", today)
    last_week = monday - timedelta(days=7)
    # Done on Wednesday of last week (due Monday: late), and reaching head office only now, a week on.
    late = run_event("weekly", last_week, local_noon(client, last_week + timedelta(days=2)),
                     {"clean-hardware": "ok"}, device=THIRD)
    on_time = run_event("weekly", last_week - timedelta(days=7), local_noon(client, last_week - timedelta(days=7)),
                        {"clean-hardware": "ok"}, device=THIRD)
    assert push(client, phone, late, on_time) == ["stored", "stored"]
    detail = admin.get(f"/office/compliance/{chain.east}").text
    weekly = section(detail, "weekly")
    rows = weekly.split("<tr>")
    row = next(r for r in rows if f">{last_week.isoformat()}<" in r)
    assert "state-late" in row and "周期结束后才同步" in row
    assert f'/office/checklists/{chain.east}/{late["id"]}' in row
    earlier = next(r for r in rows if f">{(last_week - timedelta(days=7)).isoformat()}<" in r)
    assert "state-on_time" in earlier and "周期结束后才同步" in earlier  # done on time, synced weeks later
    this_week = next(r for r in rows if f">{monday.isoformat()}<" in r)
    assert "state-late" not in this_week and late["id"] not in this_week  # not counted where it arrived


def test_the_region_summary_counts_ended_periods_on_time(admin, client, chain):
    phone = enroll(client, chain.east, THIRD, name="east phone 2")
    enrolled_since(client, chain.east, 3)
    today = local_today(client)
    days = [today - timedelta(days=n) for n in (1, 2, 3)]
    # Enrolled three days ago (after noon): that day's due day ended after the enrollment, so it counts.
    assert push(client, phone, *(run_event("daily", d, local_noon(client, d), DAILY, device=THIRD)
                                 for d in days[:2])) == [
        "stored"] * 2
    page = admin.get("/office/compliance?region=华东+East").text
    summary = page[page.index('id="regions-h"'):page.index('id="matrix-h"')]
    assert "华东 East" in summary and "华西 West" not in summary
    assert re.search(r">(\d+)%</strong>", summary)


def test_a_regional_user_sees_only_their_shops_in_the_matrix(signed_in, chain):
    east = signed_in("east-lead", "regional", ["华东 East"])
    page = east.get("/office/compliance").text
    assert "华东一店 East 1" in page and "华西一店 West 1" not in page
    assert east.get(f"/office/compliance/{chain.west}").status_code == 404
    assert east.get("/office/compliance?region=华西+West").status_code == 403
