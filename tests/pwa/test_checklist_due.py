"""What is due and overdue, from each schedule and the runs done, as the phone computes it."""

import pytest

pytestmark = pytest.mark.browser

CASES = [
    # (schedule, today, runs' periods, expected status, expected period)
    ({"checklist": "daily", "frequency": "daily"}, "2026-11-29", [], "due", "2026-11-29"),
    ({"checklist": "daily", "frequency": "daily"}, "2026-11-29", ["2026-11-29"], "done", "2026-11-29"),
    ({"checklist": "daily", "frequency": "daily"}, "2026-11-29", ["2026-11-28"], "due", "2026-11-29"),
    # 2026-11-25 is a Wednesday: the week began on Monday the 23rd, due that Monday.
    ({"checklist": "weekly", "frequency": "weekly", "weekday": "1"}, "2026-11-25", [], "overdue", "2026-11-23"),
    ({"checklist": "weekly", "frequency": "weekly", "weekday": "5"}, "2026-11-25", [], "upcoming", "2026-11-23"),
    ({"checklist": "weekly", "frequency": "weekly", "weekday": "3"}, "2026-11-25", [], "due", "2026-11-23"),
    ({"checklist": "weekly", "frequency": "weekly", "weekday": "1"}, "2026-11-25", ["2026-11-23"], "done", "2026-11-23"),
    ({"checklist": "monthly", "frequency": "monthly", "day": "1"}, "2026-11-29", [], "overdue", "2026-11-01"),
    ({"checklist": "monthly", "frequency": "monthly", "day": "1"}, "2026-12-01", [], "due", "2026-12-01"),
    # Quarter Oct-Dec, due on the 5th of its first month.
    ({"checklist": "quarterly", "frequency": "quarterly", "monthOfQuarter": "1", "day": "5"}, "2026-11-29", [], "overdue", "2026-10-01"),
    ({"checklist": "quarterly", "frequency": "quarterly", "monthOfQuarter": "3", "day": "5"}, "2026-11-29", [], "upcoming", "2026-10-01"),
    ({"checklist": "quarterly", "frequency": "quarterly", "monthOfQuarter": "1", "day": "5"}, "2027-01-03", [], "upcoming", "2027-01-01"),
]


def test_due_status(offline_page, live_server):
    page = offline_page
    page.goto(live_server.url + "/en/checklists")
    results = page.evaluate(
        """async (cases) => {
            const { dueStatus } = await import('/static/js/checklist.js');
            return cases.map(([schedule, today, periods]) => {
                const [y, m, d] = today.split('-').map(Number);
                const runs = periods.map((period) => ({ checklist: schedule.checklist, period, signed_by: 'Li', completed_at: today }));
                const { status, period } = dueStatus(schedule, runs, new Date(y, m - 1, d, 15, 0));
                return [status, period];
            });
        }""",
        [[schedule, today, periods] for schedule, today, periods, _, _ in CASES],
    )
    assert [[status, period] for *_, status, period in CASES] == results


def test_checklists_page_shows_every_checklist_due_state(offline_page, live_server):
    page = offline_page
    page.goto(live_server.url + "/en/checklists")
    badges = page.locator("[data-due]")
    badges.first.wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('[data-due]')].every(b => b.textContent)")
    texts = badges.all_inner_texts()
    assert len(texts) == 4
    assert all(t.startswith(("Due", "Overdue", "Done")) for t in texts)
