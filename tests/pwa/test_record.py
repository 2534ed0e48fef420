"""Recording with no network: an incident with photos through the T2 flow, the daily checklist,
a maintenance entry; all still there after the page is closed and reopened offline."""

import jsonschema
import pytest
from PIL import Image
from playwright.sync_api import expect

from sync.types import event_schema

pytestmark = pytest.mark.browser

PAN = "4111 1111 1111 1111"  # a Luhn-valid test card number


@pytest.fixture
def photos(tmp_path):
    """Two real photos: a large JPEG carrying GPS EXIF, and a PNG screenshot."""
    big = Image.new("RGB", (3200, 2400), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPSInfo: where the shop is
    big.save(tmp_path / "terminal.jpg", exif=exif)
    Image.new("RGB", (720, 1280), (30, 30, 200)).save(tmp_path / "screen.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8not really a jpeg")
    return tmp_path


def outbox(page) -> list[dict]:
    return page.evaluate("""async () => {
        const { getAll } = await import('/static/js/db.js');
        return (await getAll('events')).map(({ sync, reason, ...event }) => event);
    }""")


def test_record_everything_offline_and_find_it_again(offline_page, live_server, phone, photos):
    page = offline_page
    base = live_server.url

    # An incident from the T2 guide, with two photos and a card number in the note.
    page.goto(base + "/zh/codes/T2")
    page.get_by_role("link", name="记录这次故障").click()
    page.wait_for_url("**/zh/record?code=T2")
    assert page.get_by_label("错误码").input_value() == "T2"
    page.get_by_label("终端", exact=True).fill("收银台 1")
    page.get_by_label("记录人", exact=True).fill("王芳")
    page.get_by_label("照片或截图（可多张）").set_input_files([photos / "broken.jpg"])
    page.get_by_role("alert").filter(has_text="无法读取这张照片：broken.jpg").wait_for()
    page.get_by_label("照片或截图（可多张）").set_input_files([photos / "terminal.jpg", photos / "screen.png"])
    page.locator("#f-photos-preview img").nth(1).wait_for()
    page.get_by_label("备注").fill(f"顾客卡号 {PAN}，订单 20261129001")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/zh/incident?id=*")

    page.get_by_role("link", name="继续排查").click()
    page.wait_for_url("**/zh/flows/t2?incident=*")
    page.get_by_role("status").filter(has_text="正在记录：T2").wait_for()
    page.get_by_role("link", name="还没好").click()
    page.wait_for_url("**/zh/flows/t2?incident=*#step-network")
    page.get_by_role("link", name="没法检查").click()
    page.wait_for_url("**#step-restart")
    page.get_by_role("link", name="好了").click()
    page.wait_for_url("**#fixed")
    expect(page.get_by_text("已记录为已解决")).to_be_visible()

    # The daily checklist with one problem item.
    page.goto(base + "/en/checklists/daily")
    items = page.locator("li[data-item]")
    for i in range(items.count()):
        items.nth(i).get_by_label("OK").check()
    items.nth(1).get_by_label("Problem").check()
    items.nth(1).get_by_label("What is wrong (required)").fill("paper roll nearly empty")
    items.nth(1).get_by_label("Photos").set_input_files(photos / "screen.png")
    items.nth(1).locator("[data-thumbs] img").wait_for()
    assert items.nth(1).get_by_role("link", name="Log maintenance").is_visible()
    page.get_by_role("status").filter(has_text="Draft saved on this phone.").wait_for()
    page.reload()  # the draft survives
    expect(items.nth(1).get_by_label("Problem")).to_be_checked()
    expect(items.nth(1).get_by_label("What is wrong (required)")).to_have_value("paper roll nearly empty")
    page.get_by_label("Recorded by", exact=True).fill("Li Na")
    page.get_by_role("button", name="Complete the checklist").click()
    page.get_by_role("status").filter(has_text="Completed and saved.").wait_for()
    assert page.locator("[data-due]").inner_text() == "Done for this period: Li Na, " + page.evaluate(
        "async () => (await import('/static/js/i18n.js')).formatWhen((await (await import('/static/js/db.js')).getAll('events', 'type', 'checklist.completed'))[0].at)")

    # A maintenance entry with the kind's own fields.
    page.goto(base + "/en/maintenance?kind=software-update")
    page.get_by_label("Terminal", exact=True).fill("Till 1")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("alert").filter(has_text="Please fill in:").wait_for()
    page.locator("fieldset[data-kind=software-update] input").nth(0).fill("1.2.0")
    page.locator("fieldset[data-kind=software-update] input").nth(1).fill("1.3.1")
    page.get_by_label("Recorded by", exact=True).fill("Li Na")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/en/records")

    # Close the page; open a new one, still offline.
    page.close()
    page = phone.new_page()
    page.goto(base + "/en/records")
    incidents = page.locator("#list-incidents li")
    incidents.first.wait_for()
    assert incidents.count() == 1
    assert "T2: the payment could not be processed · 收银台 1" in incidents.first.inner_text()
    assert "Resolved" in incidents.first.inner_text()
    assert "2 photos" in incidents.first.inner_text()
    assert "Daily opening check" in page.locator("#list-runs").inner_text()
    assert "1 problems" in page.locator("#list-runs").inner_text()
    assert "Software update" in page.locator("#list-maintenance").inner_text()
    assert "Waiting to sync: 3 records, 2 photos" in page.locator("#outbox").inner_text()

    incidents.first.get_by_role("link").click()
    page.wait_for_url("**/en/incident?id=*")
    page.locator("[data-fact=photos] img").nth(1).wait_for()
    sizes = page.evaluate("() => [...document.querySelectorAll('[data-fact=photos] img')].map(i => [i.naturalWidth, i.naturalHeight, i.complete])")
    assert sorted(sizes) == [[720, 1280, True], [1600, 1200, True]]
    note = page.locator("[data-fact=note]").inner_text()
    assert "411111******1111" in note.replace(" ", "") and PAN not in note
    assert "20261129001" in note
    steps = page.locator("[data-fact=steps] li").all_inner_texts()
    assert steps == ["Power and cables: Not fixed", "Network connection: Can't check", "Restart the terminal: Fixed"]

    events = outbox(page)
    assert sorted(e["type"] for e in events) == sorted([
        "incident.opened", "incident.step", "incident.step", "incident.step", "incident.closed",
        "checklist.completed", "maintenance.logged",
    ])
    schema = event_schema()
    for event in events:
        jsonschema.validate(event, schema)
    opened = next(e for e in events if e["type"] == "incident.opened")
    assert len(opened["blobs"]) == 2
    # The stored photos were re-encoded on the phone: JPEG, no EXIF (so no location).
    blobs = page.evaluate("""async () => {
        const { getAll } = await import('/static/js/db.js');
        const out = [];
        for (const b of await getAll('blobs')) {
            const bytes = new Uint8Array(await b.blob.arrayBuffer());
            const text = String.fromCharCode(...bytes.slice(0, 4096));
            out.push({ type: b.type, exif: text.includes('Exif'), start: [bytes[0], bytes[1]] });
        }
        return out;
    }""")
    # The checklist's photo is the same screenshot: named by its hash, it is stored once.
    run = next(e for e in events if e["type"] == "checklist.completed")
    assert run["blobs"] and set(run["blobs"]) <= set(opened["blobs"])
    assert len(blobs) == 2
    assert all(b["type"] == "image/jpeg" and b["start"] == [0xFF, 0xD8] and not b["exif"] for b in blobs)


def test_escalate_from_a_support_card_with_the_summary_to_read_out(offline_page, live_server):
    page = offline_page
    page.goto(live_server.url + "/en/flows/t2")  # walking the flow records it
    while "#call-" not in page.url:
        step = page.locator(".step:visible")
        before = step.get_attribute("id")
        step.get_by_role("link", name="Not fixed").click()
        expect(page.locator(".step:visible")).not_to_have_id(before)
    summary = page.locator("#flow-incident")
    expect(summary).to_be_visible()
    expect(summary.locator("[data-fact=code]")).to_have_text("T2: the payment could not be processed")
    expect(summary.locator("[data-fact=status]")).to_have_text("Not saved yet")
    summary.get_by_label("Terminal", exact=True).fill("Till 3")
    expect(summary.locator("[data-fact=terminal]")).to_have_text("Till 3")
    summary.get_by_label("Recorded by", exact=True).fill("Zhou")
    assert summary.locator("[data-fact=steps] li").count() >= 8
    page.get_by_role("button", name="Called them: record as escalated").click()
    summary.get_by_role("button", name="Save the record").click()
    expect(summary.locator("[data-fact=status]")).to_have_text("Escalated")
    closed = page.evaluate("""async () => {
        const { getAll } = await import('/static/js/db.js');
        return (await getAll('events')).filter(e => e.type === 'incident.closed').map(e => [e.payload, e.recorded_by, e.sync]);
    }""")
    assert len(closed) == 1
    payload, who, sync = closed[0]
    assert payload["outcome"] == "escalated" and payload["support"] and payload["step"]
    assert (who, sync) == ("Zhou", "pending")


def test_a_full_disk_is_shown_and_nothing_half_written_remains(offline_page, live_server, photos):
    page = offline_page
    page.goto(live_server.url + "/en/record?code=T2")
    page.get_by_label("Terminal", exact=True).fill("Till 1")
    page.get_by_label("Recorded by").fill("Wu")
    page.get_by_label("Photos or screenshots (several allowed)").set_input_files([photos / "screen.png"])
    page.locator("#f-photos-preview img").wait_for()
    # The disk fills up between the photo and the event: the event's add fails inside the
    # transaction that also holds the photo.
    page.evaluate("""() => {
        const add = IDBObjectStore.prototype.add;
        IDBObjectStore.prototype.add = function (value) {
            if (this.name === 'events') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
            return add.call(this, value);
        };
    }""")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The phone's storage is full: nothing was saved. Free some space and try again.")
    stored = page.evaluate("""async () => {
        const { count } = await import('/static/js/db.js');
        return [await count('events'), await count('blobs')];
    }""")
    assert stored == [0, 0]
