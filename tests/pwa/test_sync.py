"""The phone's sync engine against a real server: enroll, record offline, and when the network
returns every event and byte-identical photo reaches the server exactly once."""

import hashlib
import sqlite3

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.fixtures import wait_offline_ready
from tests.pwa.phone import cli, enrollment_url

pytestmark = pytest.mark.browser


def new_shop_url(live_server, shop_name="Sync shop") -> str:
    """The enrollment URL (as its QR code holds it) of a new shop."""
    return enrollment_url(live_server, cli(live_server.data, "shops", "add", shop_name).strip())


def enrolled_page(live_server, phone, shop_name, phone_name):
    """A phone page enrolled in a new shop, as if its QR code was scanned."""
    page = phone.new_page()
    page.goto(new_shop_url(live_server, shop_name))
    wait_offline_ready(page)
    page.get_by_label("这部手机的名称").fill(phone_name)
    page.get_by_role("button", name="绑定").click()
    expect(page.get_by_role("heading", name="已绑定")).to_be_visible()
    return page


def server_rows(live_server, sql):
    with sqlite3.connect(live_server.data / "posaid.db") as db:
        return db.execute(sql).fetchall()


def test_enroll_record_offline_then_sync(live_server, phone, tmp_path):
    Image.new("RGB", (2000, 1500), (10, 120, 40)).save(tmp_path / "a.jpg")
    Image.new("RGB", (600, 900), (120, 10, 40)).save(tmp_path / "b.png")
    page = phone.new_page()
    page.goto(new_shop_url(live_server))  # as if scanned from the QR code
    wait_offline_ready(page)
    page.get_by_label("这部手机的名称").fill("收银台手机")
    page.get_by_role("button", name="绑定").click()
    expect(page.get_by_role("heading", name="已绑定：Sync shop")).to_be_visible()
    expect(page.locator("#enroll-form")).to_be_hidden()  # the used form gives way to what happens next
    assert "code=" not in page.url

    phone.set_offline(True)
    page.goto(live_server.url + "/en/record?code=51")
    page.get_by_label("Terminal", exact=True).fill("Till 2")
    page.get_by_label("Recorded by").fill("Chen")
    page.get_by_label("Photos or screenshots (several allowed)").set_input_files([tmp_path / "a.jpg", tmp_path / "b.png"])
    page.locator("#f-photos-preview img").nth(1).wait_for()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/en/incident?id=*")
    expect(page.locator("#outbox-text")).to_contain_text("Waiting to sync: 1 record, 2 photos")
    assert server_rows(live_server, "SELECT count(*) FROM events") == [(0,)]

    phone.set_offline(False)  # the "online" event starts a sync
    expect(page.locator("#outbox-text")).to_contain_text("Everything synced", timeout=30_000)
    expect(page.locator("#outbox-text")).to_contain_text("Last sync")

    local = page.evaluate("""async () => {
        const { getAll } = await import('/static/js/db.js');
        const blobs = [];
        for (const b of await getAll('blobs')) {
            const bytes = new Uint8Array(await b.blob.arrayBuffer());
            blobs.push({ sha: b.sha, sync: b.sync, bytes: Array.from(bytes) });
        }
        return { events: await getAll('events'), blobs };
    }""")
    assert [e["sync"] for e in local["events"]] == ["held"]
    [event] = local["events"]
    assert server_rows(live_server, "SELECT id, type FROM events") == [(event["id"], "incident.opened")]
    assert server_rows(live_server, "SELECT code, terminal, status, photos_count FROM incidents") == [("51", "Till 2", "open", 2)]
    for blob in local["blobs"]:
        assert blob["sync"] == "held"
        data = bytes(blob["bytes"])
        assert hashlib.sha256(data).hexdigest() == blob["sha"]
        stored = live_server.data / "blobs" / blob["sha"][:2] / blob["sha"][2:]
        assert stored.read_bytes() == data  # byte-identical on the server

    # Syncing again sends nothing new and stores nothing twice.
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#outbox-text")).to_contain_text("Everything synced")
    assert server_rows(live_server, "SELECT count(*) FROM events") == [(1,)]


def test_a_revoked_phone_keeps_its_records_and_says_so(live_server, phone):
    page = enrolled_page(live_server, phone, "Revoked shop", "old phone")
    device = page.evaluate("async () => (await import('/static/js/db.js')).getMeta('device')")
    cli(live_server.data, "devices", "revoke", device)

    page.goto(live_server.url + "/en/record?code=T2")
    page.get_by_label("Terminal", exact=True).fill("Till 9")
    page.get_by_label("Recorded by").fill("Ma")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/en/incident?id=*")  # opening a page syncs, and the server refuses
    expect(page.locator("#outbox-text")).to_contain_text("This phone's access was revoked: enroll it again")
    expect(page.locator("#outbox-text")).to_contain_text("Waiting to sync: 1 record, 0 photos")
    expect(page.get_by_role("link", name="Enroll this phone")).to_be_visible()
    expect(page.get_by_role("button", name="Sync now")).to_be_hidden()
    assert server_rows(live_server, "SELECT count(*) FROM events") == [(0,)]


def test_a_push_whose_answer_was_lost_is_held_by_the_next_pull_and_old_records_are_pruned(live_server, phone):
    page = enrolled_page(live_server, phone, "Lost answer shop", "收银台手机")
    # An incident closed 40 days ago, held by the server since: a good round prunes it.
    page.evaluate("""async () => {
        const { write } = await import('/static/js/db.js');
        const at = new Date(Date.now() - 40 * 24 * 3600 * 1000).toISOString();
        const base = { device: 'd', at, recorded_by: 'Chen', shop: null, blobs: [], sync: 'held' };
        const opened = '01890000-0000-7000-8000-000000000001';
        await write(['events'], (s) => {
            s.events.put({ ...base, id: opened, type: 'incident.opened', payload: { code: 'T2', terminal: 'Till 1', occurred_at: at, note: '' } });
            s.events.put({ ...base, id: '01890000-0000-7000-8000-000000000002', type: 'incident.closed',
                           payload: { incident: opened, outcome: 'resolved', step: null } });
        });
    }""")

    pushes = []

    def lose_the_answer(route):
        pushes.append(route.request.post_data_json)
        route.fetch()  # the server stores the batch...
        route.abort()  # ...and its answer never reaches the phone

    page.route("**/api/v1/events", lose_the_answer)
    page.goto(live_server.url + "/en/record?code=T2")
    page.get_by_label("Terminal", exact=True).fill("Till 3")
    page.get_by_label("Recorded by").fill("Chen")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/en/incident?id=*")  # opening a page syncs: the push goes, its answer is lost
    expect(page.locator("#outbox-text")).to_contain_text("Cannot reach the server", timeout=30_000)
    assert len(pushes) == 1
    assert server_rows(live_server, "SELECT count(*) FROM events") == [(1,)]
    expect(page.locator("#outbox-text")).to_contain_text("Waiting to sync: 1 record, 0 photos")

    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#outbox-text")).to_contain_text("Everything synced", timeout=30_000)
    assert len(pushes) == 1  # the pull said it is held: nothing was sent again
    local = page.evaluate("async () => (await import('/static/js/db.js')).getAll('events')")
    [(id,)] = server_rows(live_server, "SELECT id FROM events")
    assert [(id, "held")] == [(e["id"], e["sync"]) for e in local]
