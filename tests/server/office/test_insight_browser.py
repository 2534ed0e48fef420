"""The insight pages in Chromium: the trends' SVG charts and the other new pages load under the
strict CSP with no console error and no CSP violation, fit a phone, and the home page refreshes
itself when records arrive."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from server.cli import main
from tests.factories import closed, event
from tests.fixtures import DEVICE, PASSWORD, call, code_for
from tests.markup import check_page

pytestmark = pytest.mark.browser


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def office(live_server):
    result = CliRunner().invoke(main, ["users", "add", "boss", "--role", "admin", "--password-stdin",
                                       "--data", str(live_server.data)], input=PASSWORD)
    assert result.exit_code == 0, result.output
    code = code_for(live_server, "华东一店 East 1")
    token = call(live_server, "POST", "/api/v1/enroll",
                 json.dumps({"code": code, "device": DEVICE, "name": "东店手机"}).encode())["token"]
    now = datetime.now(UTC)
    events = []
    for n in range(8):
        at = now - timedelta(days=n * 3, hours=1)
        opened = event("incident.opened", {"code": "T2" if n % 2 else "51", "terminal": "Till 1",
                                           "occurred_at": stamp(at), "note": "",
                                           "transaction": {"amount": "120.00", "entry": "chip"}},
                       at=stamp(at), v=2)
        events += [opened, closed(opened["id"], "resolved", "network", at=stamp(at + timedelta(minutes=12)))]
    call(live_server, "POST", "/api/v1/events", json.dumps({"events": events}).encode(), token=token)
    live_server.token = token
    return live_server


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: problems.append(response.url) if response.status >= 400 else None)
    return problems


def sign_in(page, url):
    page.goto(url + "/office/login")
    page.fill("#username", "boss")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/office/")


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}, {"width": 1280, "height": 800}])
def test_the_insight_pages_load_under_the_csp_with_no_error(browser, office, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems = watch(page)
    try:
        sign_in(page, office.url)
        for path in ("/office/trends", "/office/compliance", "/office/actions", "/office/alerts", "/office/feeds",
                     "/office/compliance/1"):
            page.goto(office.url + path)
            check_page(page.content(), "zh-CN", scripts="/office/static/")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
        page.goto(office.url + "/office/trends")
        assert page.locator("svg.chart").count() >= 8
        box = page.locator("#chart-weekly svg").bounding_box()
        assert box["width"] > 200 and box["height"] > 100
        # Colours come from the stylesheet's classes: a bar is filled, not black (no inline style needed).
        fill = page.evaluate("getComputedStyle(document.querySelector('#chart-weekly rect.bar')).fill")
        assert fill not in ("", "rgb(0, 0, 0)")
        assert problems == []
    finally:
        context.close()


def test_the_home_page_refreshes_itself_when_records_arrive(browser, office):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = watch(page)
    try:
        sign_in(page, office.url)
        before = page.inner_text("ul.tiles li:nth-child(2) strong")
        now = datetime.now(UTC)
        opened = event("incident.opened", {"code": "T2", "terminal": "Till 1", "occurred_at": stamp(now),
                                           "note": "刚刚发生"}, at=stamp(now))
        call(office, "POST", "/api/v1/events", json.dumps({"events": [opened]}).encode(), token=office.token)
        # Polled from here: the page's CSP forbids the string evaluation wait_for_function would use.
        for _ in range(150):
            if page.inner_text("ul.tiles li:nth-child(2) strong") != before:
                break
            page.wait_for_timeout(100)
        assert page.inner_text("ul.tiles li:nth-child(2) strong") != before
        assert "已更新" in page.inner_text("#live-status")
        assert problems == []
    finally:
        context.close()
