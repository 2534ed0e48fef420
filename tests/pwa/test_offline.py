"""The app installs its service worker, then reads with no network in both languages, and a
content change reaches the installed app as an update the user is told about."""

import pytest

from tests.fixtures import wait_offline_ready

pytestmark = pytest.mark.browser


def test_first_visit_installs_then_reads_offline(live_server, phone):
    page = phone.new_page()
    page.goto(live_server.url + "/zh")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    wait_offline_ready(page)
    page.get_by_role("status").filter(has_text="已可离线使用").wait_for()

    live_server.stop()  # the network is really gone: nothing answers on the port
    phone.set_offline(True)

    page.goto(live_server.url + "/zh/codes/T2")
    assert "T2" in page.locator("h1").inner_text()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name="开始逐步排查").first.click()
    page.wait_for_url("**/zh/flows/t2")
    assert page.get_by_role("link", name="还没好").is_visible()

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/en/flows/t2")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(live_server.url + "/en/codes/T2")
    assert page.get_by_role("heading", name="What it means").is_visible()
    assert page.locator("#net").inner_text() == "Offline"

    page.goto(live_server.url + "/en/no-such-page")
    assert page.get_by_role("heading", name="This page is not saved for offline use").is_visible()


def test_content_change_arrives_as_an_update(live_server, phone, content_dir):
    page = phone.new_page()
    page.goto(live_server.url + "/en/codes/T2")
    wait_offline_ready(page)
    old_sw = page.request.get(live_server.url + "/sw.js").text()

    t2 = content_dir / "codes" / "T2.toml"
    t2.write_text(t2.read_text(encoding="utf-8").replace(
        'customer = { zh = "', 'customer = { zh = "（新）', 1).replace(
        'en = "Sorry, this payment', 'en = "(new) Sorry, this payment', 1), encoding="utf-8")
    live_server.restart()
    new_sw = page.request.get(live_server.url + "/sw.js").text()
    assert new_sw != old_sw

    page.reload()
    banner = page.get_by_role("alert").filter(has_text="A new version is ready.")
    banner.wait_for(timeout=30_000)
    page.get_by_role("button", name="Reload").click()
    page.get_by_text("(new) Sorry, this payment").wait_for(timeout=30_000)
    # The new page came from the new precache: it still reads with the server gone.
    live_server.stop()
    phone.set_offline(True)
    page.goto(live_server.url + "/en/codes/T2")
    assert page.get_by_text("(new) Sorry, this payment").is_visible()


def test_the_whole_library_reads_offline_on_a_phone(offline_page, live_server):
    """Every page of both languages comes from the precache, fits 360 px, and has its heading."""
    import re

    page = offline_page
    keys = page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
        }
        return urls;
    }""")
    pages = sorted({url for url in keys if re.match(r"^/(zh|en)(/|$)", url) and "." not in url})
    assert len(pages) > 100
    for url in pages:
        page.goto(live_server.url + url)
        assert page.locator("h1").count() == 1, url
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"{url} is {width} px wide"
