"""The office in Chromium at a phone's width and a desk's: sign in, walk the pages, the photo,
the language switch, sign out; no page overflows sideways, none trips the CSP."""

import json
import urllib.request

import pytest
from click.testing import CliRunner

from server.cli import main
from tests.factories import opened, step
from tests.fixtures import DEVICE, PASSWORD, call, code_for
from tests.images import jpeg, sha
from tests.markup import check_page

pytestmark = pytest.mark.browser


@pytest.fixture
def office(live_server):
    """A running server with an admin, and a phone's incident with a photo pushed over HTTP."""
    result = CliRunner().invoke(main, ["users", "add", "boss", "--role", "admin", "--password-stdin",
                                       "--data", str(live_server.data)], input=PASSWORD)
    assert result.exit_code == 0, result.output
    code = code_for(live_server, "华东一店 East 1")
    token = call(live_server, "POST", "/api/v1/enroll",
                 json.dumps({"code": code, "device": DEVICE, "name": "东店手机"}).encode())["token"]
    photo = jpeg(640, 480)
    request = urllib.request.Request(f"{live_server.url}/api/v1/blobs/{sha(photo)}", data=photo, method="PUT")
    request.add_header("Authorization", f"Bearer {token}")
    urllib.request.urlopen(request).close()
    incident = opened(note="顾客改用现金", blobs=[sha(photo)])
    body = json.dumps({"events": [incident, step(incident["id"], "power", "not_fixed")]}).encode()
    call(live_server, "POST", "/api/v1/events", body, token=token)
    return live_server


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}, {"width": 1280, "height": 800}])
def test_sign_in_walk_the_office_and_sign_out(browser, office, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: problems.append(response.url) if response.status == 404 else None)
    try:
        page.goto(office.url + "/office/incidents")
        assert "/office/login" in page.url
        page.fill("#username", "boss")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/office/incidents")
        assert page.inner_text("h1") == "故障记录"
        assert fits(page)
        check_page(page.content(), "zh-CN", scripts="/office/static/")

        page.click("table.list tbody a[href*='/office/incidents/']")
        page.wait_for_selector("ol.timeline")
        assert "电源和线缆" in page.inner_text("ol.timeline")
        thumb = page.locator("ul.photos img").first
        thumb.scroll_into_view_if_needed()
        page.wait_for_function("document.querySelector('ul.photos img').naturalWidth > 0")
        assert fits(page)

        page.click("form.lang button")
        page.wait_for_selector("html[lang=en]")
        assert "Power and cables" in page.inner_text("ol.timeline")
        for path in ("/office/", "/office/shops/1", "/office/devices", "/office/incidents/export", "/office/audit",
                     "/office/people", "/office/checklists", "/office/maintenance"):
            page.goto(office.url + path)
            assert fits(page), path
            check_page(page.content(), "en", scripts="/office/static/")

        page.goto(office.url + "/office/")
        page.click(".me button")
        page.wait_for_url("**/office/login")
        page.goto(office.url + "/office/")
        assert "/office/login" in page.url
        assert problems == []
    finally:
        context.close()
