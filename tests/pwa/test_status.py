"""What the status bar says (issue 10, items 6 and 11): records counted, not events; sync
messages in the page's language that never contradict themselves; sync on start and whenever the
app comes back to the foreground on a phone without Background Sync; storage left, and a warning
while anything waits on a browser that may evict it."""

import pytest
from playwright.sync_api import expect

from tests.pwa.phone import STAFF, TERMINALS, t, wait_until

pytestmark = pytest.mark.browser

NO_BACKGROUND_SYNC = "delete window.SyncManager; delete ServiceWorkerRegistration.prototype.sync;"
NOT_PERSISTED = """navigator.storage.persisted = async () => false; navigator.storage.persist = async () => false;"""
PENDING = "async () => (await (await import('/static/js/db.js')).count('events', 'sync', 'pending'))"


def walk_and_save(page, live_server, lang):
    """An incident walked through three checks and saved: five events, one record."""
    page.goto(f"{live_server.url}/{lang}/flows/t2")
    for key, step in [("flow.not_fixed", "step-network"), ("flow.not_fixed", "step-restart"), ("flow.fixed", "fixed")]:
        page.locator(".step:visible").get_by_role("link", name=t(lang, key), exact=True).click()
        expect(page.locator(".step:visible")).to_have_id(step)
    page.get_by_role("button", name=TERMINALS[0][0]).click()
    page.get_by_role("button", name=STAFF[0]).click()
    page.get_by_role("button", name=t(lang, "incident.complete_save")).click()
    expect(page.get_by_text(t(lang, "incident.saved"))).to_be_visible()


def test_the_status_counts_records_and_says_one_thing_in_the_pages_language(shop_phone, live_server, lang):
    page = shop_phone
    page.route("**/api/v1/**", lambda route: route.abort())  # the server cannot be reached
    walk_and_save(page, live_server, lang)
    status = page.locator("#outbox-text")
    waiting = t(lang, "js.waiting", records=t(lang, "js.records_one" if lang == "en" else "js.records_other", count=1),
                photos=t(lang, "js.photos_other", count=0))
    expect(status).to_contain_text(waiting)  # five events, one record
    page.get_by_role("button", name=t(lang, "js.sync_now")).click()
    expect(status).to_contain_text(t(lang, "js.sync_unreachable"))
    assert t(lang, "js.synced") not in status.inner_text()

    page.route("**/api/v1/pull", lambda route: route.fulfill(status=503, body="{}"))  # before the way opens
    page.unroute("**/api/v1/**")
    page.get_by_role("button", name=t(lang, "js.sync_now")).click()
    expect(status).to_contain_text(t(lang, "js.sync_server_error", status=503))
    assert "HTTP" not in status.inner_text() and t(lang, "js.synced") not in status.inner_text()

    page.unroute("**/api/v1/pull")
    page.get_by_role("button", name=t(lang, "js.sync_now")).click()
    expect(status).to_contain_text(t(lang, "js.synced"))
    assert t(lang, "js.sync_unreachable") not in status.inner_text()


def test_sync_runs_without_background_sync_on_start_and_back_in_the_foreground(shop_phone, live_server, screen, lang):
    screen.add_init_script(NO_BACKGROUND_SYNC)
    page = screen.new_page()  # from here on, pages have no SyncManager
    page.goto(f"{live_server.url}/{lang}/records")
    assert page.evaluate("'SyncManager' in window") is False
    shop_phone.close()

    def record_while_unreachable():
        page.route("**/api/v1/**", lambda route: route.abort())
        page.evaluate("""async () => (await import('/static/js/outbox.js')).record('maintenance.logged',
            { terminal: 'Till 1', kind: 'cleaning', done_at: new Date().toISOString(), fields: {}, note: '' }, 'Li Na')""")
        wait_until(page, f"async () => (await ({PENDING})()) === 1")
        page.unroute("**/api/v1/**")

    record_while_unreachable()  # back in the foreground
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    wait_until(page, f"async () => (await ({PENDING})()) === 0")

    record_while_unreachable()  # restored from the back-forward cache
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))")
    wait_until(page, f"async () => (await ({PENDING})()) === 0")

    record_while_unreachable()  # the app started again
    page.close()
    page = screen.new_page()
    page.goto(f"{live_server.url}/{lang}")
    wait_until(page, f"async () => (await ({PENDING})()) === 0")
    expect(page.locator("#outbox-text")).to_contain_text(t(lang, "js.synced"))


def test_storage_left_and_a_warning_while_records_wait_on_an_evictable_browser(live_server, screen, lang):
    screen.add_init_script(NOT_PERSISTED)
    page = screen.new_page()
    page.goto(f"{live_server.url}/{lang}/records")
    storage = page.locator("#storage")
    expect(storage).to_contain_text(t(lang, "js.storage_left", free="").split("{")[0][:4])
    expect(storage).to_contain_text(t(lang, "js.storage_not_kept"))
    status = page.locator("#outbox-text")
    assert t(lang, "js.not_persisted") not in status.inner_text()  # nothing waits: nothing to lose
    page.evaluate("""async () => (await import('/static/js/outbox.js')).record('maintenance.logged',
        { terminal: 'Till 1', kind: 'cleaning', done_at: new Date().toISOString(), fields: {}, note: '' }, 'Li Na')""")
    expect(status).to_contain_text(t(lang, "js.not_persisted"))
