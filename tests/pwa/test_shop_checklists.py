"""The manager's checklists (issue 10, items 8 and 9): a run done on one phone shows done, by whom
and when, on every phone of the shop; a second run of a done period asks first; guidance is
folded, a problem needs a note, an item takes up to five photos, and the daily checklist fits a
phone in two and a half screens."""

import pytest
from PIL import Image
from playwright.sync_api import expect

from content.load import load
from tests.pwa.phone import STAFF, enroll_page, shop_with_register, t

pytestmark = pytest.mark.browser

DAILY = load().checklists["daily"]


def check_all_ok(page, lang):
    items = page.locator("li[data-item]")
    for i in range(items.count()):
        items.nth(i).get_by_text(t(lang, "run.ok"), exact=True).click()


def test_a_run_on_one_phone_is_done_on_every_phone_of_the_shop(live_server, screen, lang):
    shop = shop_with_register(live_server)
    first = enroll_page(screen.new_page(), live_server, shop, lang)
    other_context = screen.browser.new_context(viewport=screen.pages[0].viewport_size, is_mobile=True, has_touch=True)
    second = enroll_page(other_context.new_page(), live_server, shop, lang)

    first.goto(f"{live_server.url}/{lang}/checklists/daily")
    check_all_ok(first, lang)
    first.get_by_role("button", name=STAFF[1]).click()
    first.get_by_role("button", name=t(lang, "run.complete")).click()
    expect(first.get_by_text(t(lang, "run.done"))).to_be_visible()
    first.get_by_role("button", name=t(lang, "js.sync_now")).click()
    expect(first.locator("#outbox-text")).to_contain_text(t(lang, "js.synced"))

    # The other phone syncs when it opens the app, and shows the shop's runs as pull brings them.
    second.goto(f"{live_server.url}/{lang}/checklists")
    done = second.locator(".checklist-entry[data-checklist=daily] [data-due]")
    expect(done).to_contain_text(STAFF[1])
    expect(done).to_have_class("due due-done")

    # A second run of the same period is asked for, not started.
    second.goto(f"{live_server.url}/{lang}/checklists/daily")
    ask = second.locator("#run-again")
    expect(ask).to_contain_text(STAFF[1])
    expect(second.locator("#run-form")).to_be_hidden()
    ask.get_by_role("button", name=t(lang, "run.again")).click()
    expect(second.locator("#run-form")).to_be_visible()
    other_context.close()


@pytest.fixture
def photos(tmp_path):
    paths = []
    for i in range(6):
        path = tmp_path / f"p{i}.png"
        Image.new("RGB", (64, 48), (40 * i, 20, 200 - 30 * i)).save(path)
        paths.append(path)
    return paths


def test_the_daily_checklist_fits_a_phone(live_server, screen, lang, photos):
    page = screen.new_page()
    page.goto(f"{live_server.url}/{lang}/checklists/daily")
    expect(page.locator("fieldset.run").first).to_be_visible()
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    tall = page.evaluate("document.documentElement.scrollHeight")
    # Guidance folded: two and a half screens held upright (the way a checklist is walked), and
    # sideways, where the items sit two abreast, under three.
    assert tall <= (2.5 if height > width else 3) * height, f"{tall} px on a {width} × {height} screen"
    assert page.locator("details.guidance[open]").count() == 0
    guidance = page.locator("li[data-item]").first.locator("details.guidance")
    guidance.locator("summary", has_text=t(lang, "checklists.guidance")).click()
    expect(guidance.get_by_text(getattr(DAILY.items[0].why, lang))).to_be_visible()

    check_all_ok(page, lang)
    item = page.locator("li[data-item]").nth(1)
    item.get_by_text(t(lang, "run.problem"), exact=True).click()
    note = item.get_by_label(t(lang, "run.problem_note"))
    expect(note).to_be_visible()
    item.locator("input[type=file]").set_input_files(photos[:5])
    expect(item.locator("[data-thumbs] img")).to_have_count(5)
    item.locator("input[type=file]").set_input_files(photos[5:])
    expect(page.get_by_role("alert")).to_have_text(t(lang, "js.err_item_photos"))
    expect(item.locator("[data-thumbs] img")).to_have_count(5)

    page.get_by_label(t(lang, "record.who"), exact=True).fill("Li Na")
    page.get_by_role("button", name=t(lang, "run.complete")).click()
    title = getattr(DAILY.items[1].title, lang)
    expect(page.get_by_role("alert")).to_have_text(t(lang, "js.err_problem_note", field=title))
    note.fill("paper roll nearly empty")
    expect(page.get_by_role("alert")).to_be_hidden()  # the message goes once the note is written
    page.get_by_role("button", name=t(lang, "run.complete")).click()
    expect(page.get_by_text(t(lang, "run.done"))).to_be_visible()
    run = page.evaluate("async () => (await (await import('/static/js/db.js')).getAll('events', 'type', 'checklist.completed'))[0]")
    assert len(run["blobs"]) == 5
    # Five photos of one item need format 2 (item.photos); one would have gone as format 1's item.photo.
    assert run["payload"]["items"][1] == {"item": DAILY.items[1].id, "result": "problem", "note": "paper roll nearly empty",
                                          "photos": run["blobs"]}
    assert run["v"] == 2

