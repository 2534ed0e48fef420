"""With JavaScript off, the guides still read and the check flow still walks, step by step."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_flow_walks_without_javascript(live_server, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(live_server.url + "/zh")
    page.get_by_role("link", name="开始逐步排查").click()
    page.wait_for_url("**/zh/flows/t2")
    steps = page.locator(".step")
    expect(steps.filter(has=page.locator("h2", has_text="电源和线缆"))).to_be_visible()
    assert sum(steps.nth(i).is_visible() for i in range(steps.count())) == 1  # one step at a time
    page.get_by_role("link", name="还没好").click()
    page.wait_for_url("**/zh/flows/t2#step-network")
    assert sum(steps.nth(i).is_visible() for i in range(steps.count())) == 1
    page.get_by_role("link", name="好了").click()
    expect(page.get_by_role("heading", name="问题已解决")).to_be_visible()

    page.goto(live_server.url + "/en/record")
    expect(page.get_by_text("Recording needs JavaScript. The guides read without it.")).to_be_visible()
    page.goto(live_server.url + "/en/search?q=51")
    expect(page.get_by_role("link", name="51 Insufficient funds")).to_be_visible()  # the full list
    context.close()
