"""The answer buttons stay in reach (issue 10, item 4): on a 360 × 640 phone and held sideways,
every step's answers show without scrolling, "back one step" goes back, the home page keeps the
T2 card's button above the fold, and records and checklists are one tap away from every page."""

import pytest
from playwright.sync_api import expect

from content.load import load
from tests.pwa.phone import t

pytestmark = [pytest.mark.browser, pytest.mark.every_screen_and_language]

LIBRARY = load()

# Each element matching the selector is on screen, above the bottom bar (or in it), and not covered.
IN_REACH = """(selector) => {
    const tabs = document.querySelector('.tabs').getBoundingClientRect().top;
    const limit = (el) => (el.closest('.tabs') ? window.innerHeight : tabs);
    return [...document.querySelectorAll(selector)].map((el) => {
        const box = el.getBoundingClientRect();
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return box.top >= 0 && box.bottom <= limit(el) && (hit === el || el.contains(hit));
    });
}"""


def test_every_steps_answers_show_without_scrolling(installed, live_server, lang):
    page = installed
    for flow in LIBRARY.flows.values():
        
        page.goto(f"{live_server.url}/{lang}/flows/{flow.id}")
        for step in flow.steps:
            page.evaluate("(id) => { location.hash = id; }", f"#step-{step.id}")
            section = page.locator(f"#step-{step.id}")
            expect(section).to_be_visible()
            assert page.evaluate(IN_REACH, f"#step-{step.id} [data-answer]") == [True] * 3, (flow.id, step.id)


def test_back_one_step(installed, live_server, lang):
    page = installed
    page.goto(f"{live_server.url}/{lang}/flows/t2")
    back = t(lang, "flow.back")
    expect(page.get_by_role("link", name=back)).to_be_hidden()  # nothing to go back to
    for step in ("step-network", "step-restart"):
        page.locator(".step:visible").get_by_role("link", name=t(lang, "flow.not_fixed"), exact=True).click()
        expect(page.locator(".step:visible")).to_have_id(step)
    page.get_by_role("link", name=back).click()
    expect(page.locator(".step:visible")).to_have_id("step-network")
    page.get_by_role("link", name=back).click()
    expect(page.locator(".step:visible")).to_have_id("step-power")
    # Three steps were answered going forward and none going back: the incident holds them as walked.
    steps = page.evaluate("""async () => (await (await import('/static/js/db.js')).getAll('events', 'type', 'incident.step'))
        .map((e) => e.payload.step)""")
    assert sorted(steps) == ["network", "power"]


def test_the_t2_card_is_above_the_fold(installed, live_server, lang):
    page = installed
    page.goto(f"{live_server.url}/{lang}")
    start = page.locator(".hero").get_by_role("link", name=t(lang, "code.start_checks"))
    expect(start).to_be_visible()
    assert page.evaluate(IN_REACH, ".hero .button.primary") == [True]


PAGES = ["", "/codes/T2", "/flows/t2", "/search?q=51", "/record", "/maintenance", "/enroll", "/checklists/daily", "/records"]


def test_records_and_checklists_are_one_tap_away(installed, live_server, lang):
    page = installed
    for path in PAGES:
        for target, key in [("/records", "js.tab_records"), ("/checklists", "js.tab_checklists")]:
            page.goto(f"{live_server.url}/{lang}{path}")
            tab = page.get_by_role("navigation", name=t(lang, "js.tabs")).get_by_role("link", name=t(lang, key))
            tab.wait_for()
            assert page.evaluate(IN_REACH, f".tabs a[href='/{lang}{target}']") == [True], path
            tab.click()
            page.wait_for_url(f"**/{lang}{target}")
