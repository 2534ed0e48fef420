"""The cashier in a hurry, on a 360 × 640 phone and held sideways, in zh and en: walking the T2
flow records it (issue 10, item 1), read-outs are in words (2), the support card is the shop's
own (3), and the name is chosen, never pre-filled with the last person's (7)."""

import jsonschema
import pytest
from playwright.sync_api import expect

from content.load import load
from sync.types import event_schema
from tests.pwa.phone import (
    REGISTER,
    STAFF,
    TERMINALS,
    enroll_page,
    shop_with_register,
    t,
)

pytestmark = pytest.mark.browser

LIBRARY = load()
T2 = LIBRARY.flows["t2"]


def step_title(lang, step):
    return getattr(next(s for s in T2.steps if s.id == step).title, lang)


def answer(page, lang, key):
    """Tap an answer of the step on screen; wait until the next one shows."""
    step = page.locator(".step:visible")
    before = step.get_attribute("id")
    step.get_by_role("link", name=t(lang, key), exact=True).click()
    page.wait_for_function("(before) => location.hash && location.hash !== '#' + before", arg=before)


def outbox(page):
    return page.evaluate("""async () => (await (await import('/static/js/db.js')).getAll('events'))""")


def test_walking_the_flow_is_recording_and_the_end_asks_terminal_and_name(shop_phone, live_server, screen, lang):
    page = shop_phone
    screen.set_offline(True)
    page.goto(f"{live_server.url}/{lang}")
    page.get_by_role("link", name=t(lang, "code.start_checks")).first.click()
    expect(page.locator("#incident-bar")).to_contain_text("T2")  # recording from the tap on start
    answer(page, lang, "flow.not_fixed")  # power
    answer(page, lang, "flow.cant_check")  # network
    page.reload()  # what was walked is kept: the page's address names the incident
    expect(page.locator(".step:visible h2")).to_have_text(step_title(lang, "restart"))
    answer(page, lang, "flow.fixed")

    form = page.locator("#incident-complete")
    expect(form).to_be_visible()
    who = form.get_by_label(t(lang, "record.who"), exact=True)
    expect(who).to_have_value("")  # nobody's name filled in for them
    form.get_by_role("button", name=t(lang, "incident.complete_save")).click()
    expect(page.get_by_role("alert")).to_have_text(t(lang, "js.err_required", field=t(lang, "record.terminal")))
    form.get_by_role("button", name=TERMINALS[0][0]).click()  # one tap on the shop's terminal
    expect(page.get_by_role("alert")).to_be_hidden()  # the message goes once its field is filled (item 6)
    form.get_by_role("button", name=STAFF[1]).click()  # one tap on a name from the staff list
    form.get_by_role("button", name=t(lang, "incident.complete_save")).click()
    expect(page.get_by_text(t(lang, "incident.saved"))).to_be_visible()
    expect(page.get_by_text(t(lang, "flow.fixed_recorded"))).to_be_visible()

    events = sorted(outbox(page), key=lambda e: e["id"])
    assert [(e["type"], e["sync"]) for e in events] == [
        ("incident.opened", "pending"), *[("incident.step", "pending")] * 3, ("incident.closed", "pending")]
    assert {e["recorded_by"] for e in events} == {STAFF[1]}
    assert events[0]["payload"]["terminal"] == TERMINALS[0][0]
    assert [e["payload"]["step"] for e in events[1:4]] == ["power", "network", "restart"]
    for event in events:
        jsonschema.validate({k: v for k, v in event.items() if k != "sync"}, event_schema())

    # The summary reads in words: step titles and answers, never ids (item 2).
    steps = page.locator("#flow-incident [data-fact=steps] li").all_inner_texts()
    assert steps == [t(lang, "js.step_answer", step=step_title(lang, s), answer=t(lang, f"js.answer_{a}"))
                     for s, a in [("power", "not_fixed"), ("network", "cant_check"), ("restart", "fixed")]]

    # The next record on this shared phone does not carry the last person's name (item 7).
    page.goto(f"{live_server.url}/{lang}/record?code=51")
    expect(page.get_by_role("button", name=STAFF[0])).to_be_visible()
    expect(page.get_by_label(t(lang, "record.who"), exact=True)).to_have_value("")
    page.get_by_label(t(lang, "record.who"), exact=True).fill("新来的 New person")  # free text stays possible
    expect(page.get_by_role("button", name=STAFF[0])).to_have_attribute("aria-pressed", "false")


def test_the_support_card_reads_out_the_shops_own_numbers(shop_phone, live_server, screen, lang):
    page = shop_phone
    screen.set_offline(True)
    page.goto(f"{live_server.url}/{lang}/flows/t2")
    while "#call-" not in page.url:
        answer(page, lang, "flow.not_fixed")
    card = page.locator("#flow-incident")
    acquirer = card.locator("[data-fact=acquirer_phone] a")
    expect(acquirer).to_have_text(REGISTER["acquirer_phone"])
    expect(acquirer).to_have_attribute("href", "tel:955161234")  # tap to call
    expect(card.locator("[data-fact=vendor_phone] a")).to_have_attribute("href", "tel:4008001234")
    expect(card.locator("[data-fact=tid]")).to_have_text(t(lang, "js.choose_terminal"))
    card.get_by_role("button", name=TERMINALS[1][0]).click()
    expect(card.locator("[data-fact=tid]")).to_have_text("TID-0002")
    expect(card.locator("[data-fact=serial]")).to_have_text("SN-0002")
    expect(card.locator("[data-fact=mid]")).to_have_text("MID-8888")
    expect(card.locator("[data-fact=code]")).to_have_text(getattr(LIBRARY.codes["T2"].title, lang))
    expect(card.locator("[data-fact=when]")).not_to_be_empty()
    # Escalating closes it; the card says so once the record is saved.
    page.locator(".step:visible").get_by_role("button", name=t(lang, "support.escalate")).click()
    card.get_by_role("button", name=STAFF[0]).click()
    card.get_by_role("button", name=t(lang, "incident.complete_save")).click()
    expect(card.locator("[data-fact=status]")).to_have_text(t(lang, "js.status_escalated"))
    expect(page.locator(".step:visible").get_by_text(t(lang, "support.escalated"))).to_be_visible()


def test_a_shop_without_a_register_gets_a_line_to_ask_head_office(live_server, screen, lang):
    shop = shop_with_register(live_server, "Bare shop", register=None, terminals=[("Till 9", None, None, None, None)],
                              staff=["Zhou"])
    page = enroll_page(screen.new_page(), live_server, shop, lang)
    page.goto(f"{live_server.url}/{lang}/flows/t2")
    while "#call-" not in page.url:
        answer(page, lang, "flow.not_fixed")
    card = page.locator("#flow-incident")
    card.get_by_role("button", name="Till 9").click()
    for fact in ("acquirer_phone", "vendor_phone", "tid", "mid", "serial"):
        expect(card.locator(f"[data-fact={fact}]")).to_have_text(t(lang, "js.missing_register"))
    assert "—" not in card.locator(".facts dd:not([data-fact=note])").all_inner_texts()  # never a dash


def test_records_read_in_words_and_past_entries_open_read_only(shop_phone, live_server, screen, lang):
    page = shop_phone
    screen.set_offline(True)
    page.goto(f"{live_server.url}/{lang}/records")
    page.evaluate("""async () => {
        const { record } = await import('/static/js/outbox.js');
        await record('checklist.completed', { checklist: 'daily', period: '2026-11-30', signed_by: 'Li Na',
            items: [{ item: 'paper', result: 'problem', note: 'roll nearly empty' }, { item: 'power-battery', result: 'ok', note: '' }] }, 'Li Na');
        await record('maintenance.logged', { terminal: 'Till 1', kind: 'software-update', done_at: new Date().toISOString(),
            fields: { 'version-before': '1.2', 'version-after': '1.3' }, note: '' }, 'Li Na');
    }""")
    page.reload()
    daily = getattr(LIBRARY.checklists["daily"].title, lang)
    update = next(k for k in LIBRARY.maintenance.kinds if k.id == "software-update")
    runs = page.locator("#list-runs")
    expect(runs).to_contain_text(daily)
    expect(page.locator("#list-maintenance")).to_contain_text(getattr(update.title, lang))
    text = page.locator("main").inner_text()
    for internal in ("daily", "2026-11-30", "software-update", "version-before", "paper"):
        assert internal not in text, internal
    runs.get_by_role("link").first.click()
    page.wait_for_url("**/entry?id=*")
    expect(page.locator("h1")).to_have_text(daily)
    paper = next(i for i in LIBRARY.checklists["daily"].items if i.id == "paper")
    expect(page.locator("[data-items]")).to_contain_text(getattr(paper.title, lang))
    expect(page.locator("[data-items]")).to_contain_text("roll nearly empty")
    assert page.locator("main input, main textarea, main select").count() == 0  # read only
    page.go_back()
    page.locator("#list-maintenance").get_by_role("link").first.click()
    expect(page.locator("h1")).to_have_text(getattr(update.title, lang))
    expect(page.locator("[data-facts]")).to_contain_text(getattr(update.fields[0].label, lang))
