"""Lighter and steadier (issue 10, item 13): static files carry their revision in the URL and are
kept a year; the status bar's place is reserved inside a landmark, so filling it shifts nothing;
every page has a meta description and absolute hreflang links; the first install makes the
phone's own language work offline before it fetches the other."""

import re

import pytest
from litestar.testing import TestClient
from playwright.sync_api import expect

from content.load import load
from server.app import create_app
from server.settings import Settings
from server.site import build_site
from tests.fixtures import wait_offline_ready
from tests.markup import tags
from tests.pwa.phone import t

SITE = build_site(load(), public_url="https://hq.example.cn")
PAGES = sorted(url for url, page in SITE.pages.items() if page.media_type == "text/html")
YEAR = "public, max-age=31536000, immutable"


@pytest.mark.parametrize("url", PAGES)
def test_every_page_has_a_description_and_absolute_hreflang_links(url):
    found = tags(SITE.pages[url].body.decode())
    description = [a["content"] for tag, a in found if tag == "meta" and a.get("name") == "description"]
    assert len(description) == 1 and len(description[0]) > 8
    alternates = {a["hreflang"]: a["href"] for tag, a in found if tag == "link" and a.get("rel") == "alternate"}
    path = "/" + url.split("/", 2)[2] if url.count("/") > 1 else ""
    assert alternates == {"zh-CN": f"https://hq.example.cn/zh{path}", "en": f"https://hq.example.cn/en{path}"}
    for tag, a in found:
        src = a.get("src") or (a.get("href") if tag == "link" and a.get("rel") == "stylesheet" else None)
        if src and src.startswith("/static/"):
            assert re.search(r"\?v=[0-9a-f]{10}$", src), src


def test_static_files_name_their_revision_and_are_kept_a_year(tmp_path):
    with TestClient(create_app(Settings(data=str(tmp_path)))) as client:
        home = client.get("/zh").text
        app = re.search(r'src="(/static/js/app\.js\?v=\w+)"', home).group(1)
        kept = client.get(app)
        assert kept.headers["cache-control"] == YEAR
        # Its imports name their revisions too, so a module is never taken from a stale cache.
        imports = re.findall(r'from "(/static/[^"]+)"', kept.text)
        assert imports and all("?v=" in url for url in imports)
        for url in imports:
            assert client.get(url).headers["cache-control"] == YEAR
        # Without its revision (or with an old one) a file is checked with the server each time.
        assert client.get("/static/js/app.js").headers["cache-control"] == "no-cache"
        assert client.get("/static/js/app.js?v=0123456789").headers["cache-control"] == "no-cache"


SHIFTS = """window.__shift = 0; new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
}).observe({ type: 'layout-shift', buffered: true });"""

OUTSIDE_LANDMARKS = """() => [...document.body.querySelectorAll('*')]
    .filter((el) => el.checkVisibility() && [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
    .filter((el) => !el.closest('header, main, footer, nav, .skip'))
    .map((el) => el.outerHTML.slice(0, 80))"""


@pytest.mark.browser
@pytest.mark.parametrize("path", ["", "/codes/T2", "/flows/t2", "/checklists", "/records"])
def test_the_status_bar_shifts_nothing_and_sits_in_a_landmark(live_server, screen, lang, path):
    page = screen.new_page()
    page.add_init_script(SHIFTS)
    page.goto(f"{live_server.url}/{lang}{path}")
    expect(page.locator("#outbox-text")).not_to_be_empty()  # filled from IndexedDB
    page.wait_for_timeout(300)
    assert page.evaluate("window.__shift") == 0
    assert page.evaluate(OUTSIDE_LANDMARKS) == []
    assert page.locator("header #outbox-text[role=status]").count() == 1
    assert page.locator("footer #toast").count() == 1


@pytest.mark.browser
@pytest.mark.parametrize("own", ["en", "zh"])
def test_the_first_install_makes_the_phones_own_language_work_offline_first(live_server, screen, own):
    other = "zh" if own == "en" else "en"
    page = screen.new_page()
    page.goto(f"{live_server.url}/{own}")
    page.evaluate("navigator.serviceWorker.ready")  # the app works offline from here
    cached = page.evaluate("""async () => {
        const keys = await (await caches.open('posaid-pages')).keys();
        return keys.map((r) => new URL(r.url).pathname);
    }""")
    pages = {url for url in SITE.pages if url != "/" and SITE.pages[url].media_type == "text/html"}
    assert {url for url in pages if url.startswith(f"/{own}")} <= set(cached)  # all of its own language
    wait_offline_ready(page)  # then the other one follows
    live_server.stop()
    screen.set_offline(True)
    for lang in (own, other):
        page.goto(f"{live_server.url}/{lang}/codes/T2")
        expect(page.get_by_role("heading", level=2, name=t(lang, "code.meaning"))).to_be_visible()
