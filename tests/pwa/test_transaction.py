"""The transaction the acquirer asks for (issue 12), on a 360 × 640 phone and held sideways, in zh
and en: told offline at the end of the checks or later, each field checked for what it is, read out
in order on the support card, and synced; and a phone whose records are of a newer format than its
server takes holds them until the server is upgraded, then sends them once."""

import json

import pytest
from playwright.sync_api import expect

from tests.fixtures import LiveServer, rows, wait_until
from tests.pwa.phone import STAFF, TERMINALS, enroll_page, shop_with_register, t

pytestmark = pytest.mark.browser

SYNCED = "async () => (await (await import('/static/js/outbox.js')).waiting()).records === 0"


def walk_to_the_end(page, base, lang):
    """Start the T2 checks and say the first one fixed it: the form at the end shows."""
    page.goto(f"{base}/{lang}")
    page.get_by_role("link", name=t(lang, "code.start_checks")).first.click()
    # As the cashier does: the answer comes once the page says it is recording (before that, with
    # the page's script still loading, an answer only moves on, as it does without JavaScript).
    expect(page.locator("#incident-bar")).to_contain_text("T2")
    page.locator(".step:visible").get_by_role("link", name=t(lang, "flow.fixed"), exact=True).click()
    form = page.locator("#incident-complete")
    expect(form).to_be_visible()
    form.get_by_role("button", name=TERMINALS[0][0]).click()
    form.get_by_role("button", name=STAFF[0]).click()
    return form


def fill(form, lang, **fields):
    for name, value in fields.items():
        field = form.get_by_label(t(lang, f"tx.{name}"), exact=True)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def test_the_transaction_is_told_checked_read_out_and_synced(shop_phone, live_server, screen, lang):
    page = shop_phone
    screen.set_offline(True)
    form = walk_to_the_end(page, live_server.url, lang)
    form.get_by_text(t(lang, "tx.title")).click()  # folded until asked for
    fill(form, lang, amount="128.5", kind="sale", entry="contactless", charged="yes", rrn="12345", trace="000123",
         batch="000045", auth_code="A1B2C3", card_last4="1111")
    form.get_by_role("button", name=t(lang, "incident.complete_save")).click()
    rule = t(lang, "tx.rule_digits", count=12)
    expect(page.get_by_role("alert")).to_have_text(t(lang, "js.err_rule", field=t(lang, "tx.rrn"), rule=rule))
    fill(form, lang, rrn="123456789012")
    expect(page.get_by_role("alert")).to_be_hidden()
    form.get_by_role("button", name=t(lang, "incident.complete_save")).click()
    expect(page.get_by_text(t(lang, "incident.saved"))).to_be_visible()

    said = page.locator("#flow-incident [data-fact=transaction]")
    expect(said).to_have_text(t(lang, "js.list_sep").join([
        t(lang, "js.tx_amount", amount="128.5", currency="CNY"), t(lang, "js.tx_kind_sale"),
        t(lang, "js.tx_entry_contactless"), t(lang, "js.tx_rrn", value="123456789012"),
        t(lang, "js.tx_trace", value="000123"), t(lang, "js.tx_batch", value="000045"),
        t(lang, "js.tx_auth_code", value="A1B2C3"), t(lang, "js.tx_card_last4", value="1111"),
        t(lang, "js.tx_charged_yes")]))

    screen.set_offline(False)
    wait_until(page, SYNCED, 30)
    assert rows(live_server, "SELECT tx_kind, tx_entry, tx_charged, tx_amount FROM incidents") == [
        ("sale", "contactless", "yes", 128.5)]
    (body,) = rows(live_server, "SELECT body FROM events WHERE type = 'incident.opened'")[0]
    opened = json.loads(body)
    assert opened["v"] == 2
    assert opened["payload"]["transaction"]["rrn"] == "123456789012"  # never taken for a card number


def test_a_saved_incident_is_told_its_transaction_later(shop_phone, live_server, screen, lang):
    page = shop_phone
    form = walk_to_the_end(page, live_server.url, lang)
    form.get_by_role("button", name=t(lang, "incident.complete_save")).click()  # no transaction yet
    expect(page.get_by_text(t(lang, "incident.saved"))).to_be_visible()
    page.goto(f"{live_server.url}/{lang}/records")
    page.locator("#list-incidents a").first.click()
    later = page.locator("#incident-complete")
    expect(later.get_by_role("heading", name=t(lang, "incident.transaction"))).to_be_visible()
    expect(later.get_by_label(t(lang, "record.terminal"), exact=True)).to_be_hidden()
    later.get_by_text(t(lang, "tx.title")).click()
    fill(later, lang, charged="no", card_last4="4444")
    later.get_by_role("button", name=t(lang, "incident.tx_save")).click()
    expect(page.locator("#incident [data-fact=transaction]")).to_have_text(
        t(lang, "js.list_sep").join([t(lang, "js.tx_card_last4", value="4444"), t(lang, "js.tx_charged_no")]))
    page.get_by_role("button", name=t(lang, "js.sync_now")).click()
    wait_until(page, SYNCED, 30)
    assert rows(live_server, "SELECT tx_charged FROM incidents") == [("no",)]
    assert rows(live_server, "SELECT count(*) FROM events WHERE type = 'incident.transaction'") == [(1,)]


@pytest.fixture
def old_server(tmp_path, content_dir):
    """A server that takes format 1 only, as one not yet upgraded does."""
    from tests.fixtures import free_port

    server = LiveServer(tmp_path / "data", content_dir, free_port(), max_format=1).start()
    yield server
    server.stop()


@pytest.mark.parametrize("lang", ["zh"])
def test_a_newer_format_waits_on_the_phone_until_the_server_takes_it(old_server, browser, lang):
    context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True)
    try:
        page = enroll_page(context.new_page(), old_server, shop_with_register(old_server), lang)
        form = walk_to_the_end(page, old_server.url, lang)
        form.get_by_text(t(lang, "tx.title")).click()
        fill(form, lang, amount="88", charged="unknown")
        form.get_by_role("button", name=t(lang, "incident.complete_save")).click()
        expect(page.get_by_text(t(lang, "incident.saved"))).to_be_visible()
        page.get_by_role("button", name=t(lang, "js.sync_now")).click()
        expect(page.locator("#outbox-text")).to_contain_text(t(lang, "js.waiting_upgrade", count=1), timeout=30_000)
        # Its steps and close (format 1) go; the incident's opening (format 2) waits, not refused.
        wait_until(page, "async () => (await (await import('/static/js/db.js')).getAll('events', 'sync', 'held'))"
                         ".length === 2", 30)
        assert rows(old_server, "SELECT type FROM events ORDER BY type") == [("incident.closed",), ("incident.step",)]
        assert page.evaluate("async () => (await (await import('/static/js/db.js')).getAll('events', 'sync', "
                             "'rejected')).length") == 0

        old_server.env["POSAID_MAX_FORMAT"] = "2"  # the server is upgraded
        old_server.restart()
        page.get_by_role("button", name=t(lang, "js.sync_now")).click()
        wait_until(page, SYNCED, 30)
        assert rows(old_server, "SELECT count(*), count(DISTINCT id) FROM events") == [(3, 3)]
        assert rows(old_server, "SELECT tx_amount, tx_charged, status FROM incidents") == [(88.0, "unknown", "resolved")]
    finally:
        context.close()
