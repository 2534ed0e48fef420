"""What the chain learned reaches the cashier (issue 9, item 4): once enough T2 incidents were
closed across the chain, each step of the T2 flow says, offline, how often that check fixed it."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from content.load import load
from tests.factories import closed, event
from tests.fixtures import OTHER_DEVICE, call, code_for
from tests.pwa.phone import enroll_page, shop_with_register, t

pytestmark = pytest.mark.browser

T2 = load().flows["t2"]


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def chain_closed_t2(live_server, fixed_at: dict[str, int], escalated: int) -> None:
    """Another shop's phone pushes closed T2 incidents: `fixed_at[step]` resolved at each step, and
    `escalated` sent on to the acquirer."""
    code = code_for(live_server, "Other shop")
    token = call(live_server, "POST", "/api/v1/enroll", json.dumps(
        {"code": code, "device": OTHER_DEVICE, "name": "other phone"}).encode())["token"]
    outcomes = [(step, "resolved") for step, n in fixed_at.items() for _ in range(n)]
    outcomes += [("card-again", "escalated")] * escalated
    now = datetime.now(UTC)
    events = []
    for n, (step, outcome) in enumerate(outcomes):
        moment = now - timedelta(hours=n + 1)
        opened = event("incident.opened", {"code": "T2", "terminal": "Till", "occurred_at": stamp(moment), "note": ""},
                       at=stamp(moment), device=OTHER_DEVICE)
        events += [opened, closed(opened["id"], outcome, step, at=stamp(moment + timedelta(minutes=5)),
                                  device=OTHER_DEVICE)]
    answer = call(live_server, "POST", "/api/v1/events", json.dumps({"events": events}).encode(), token=token)
    assert {result["status"] for result in answer["results"]} == {"stored"}


def test_each_step_says_offline_how_often_it_fixed_t2_across_the_chain(live_server, screen, lang):
    chain_closed_t2(live_server, {"power": 15, "network": 30, "restart": 9}, escalated=6)  # 60 closed
    page = enroll_page(screen.new_page(), live_server, shop_with_register(live_server), lang)
    screen.set_offline(True)
    page.goto(f"{live_server.url}/{lang}")
    page.get_by_role("link", name=t(lang, "code.start_checks")).first.click()

    def said(step: str, percent: int):
        section = page.locator(f'[data-step="{step}"]')
        expect(section.locator(".learned")).to_have_text(
            t(lang, "flow.learned", percent=percent, code="T2", incidents=60))

    said("power", 25)  # 15 of 60, shown under the first check as the flow opens
    said("network", 50)
    said("restart", 15)
    said("card-again", 0)  # escalated from there: it did not fix them
    assert page.locator(".learned").count() == len(T2.steps)


def test_a_chain_with_too_few_incidents_shows_no_figure(live_server, screen, lang):
    chain_closed_t2(live_server, {"power": 40}, escalated=0)  # under the 50 that make a figure mean something
    page = enroll_page(screen.new_page(), live_server, shop_with_register(live_server), lang)
    assert page.evaluate("async () => (await import('/static/js/db.js')).getMeta('learned')") == []
    page.goto(f"{live_server.url}/{lang}")
    page.get_by_role("link", name=t(lang, "code.start_checks")).first.click()
    page.locator(".step:visible").get_by_role("link", name=t(lang, "flow.not_fixed"), exact=True).click()
    expect(page.locator(".step:visible h2")).to_have_text(getattr(T2.steps[1].title, lang))
    expect(page.locator(".learned")).to_have_count(0)
