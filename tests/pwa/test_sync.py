"""The phone's sync engine against a real server: enroll, record offline, and when the network
returns every event and byte-identical photo reaches the server exactly once."""

import hashlib
import sqlite3
import subprocess
import sys

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.fixtures import ROOT, wait_offline_ready

pytestmark = pytest.mark.browser


def cli(data, *args) -> str:
    result = subprocess.run([sys.executable, "-m", "server", *args, "--data", str(data)],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout


def enrollment_url(live_server, shop_name="Sync shop") -> str:
    shop = cli(live_server.data, "shops", "add", shop_name).strip()
    out = cli(live_server.data, "codes", "issue", shop, "--base", live_server.url)
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("url: "))


def server_rows(live_server, sql):
    with sqlite3.connect(live_server.data / "posaid.db") as db:
        return db.execute(sql).fetchall()


def test_enroll_record_offline_then_sync(live_server, phone, tmp_path):
    Image.new("RGB", (2000, 1500), (10, 120, 40)).save(tmp_path / "a.jpg")
    Image.new("RGB", (600, 900), (120, 10, 40)).save(tmp_path / "b.png")
    page = phone.new_page()
    page.goto(enrollment_url(live_server))  # as if scanned from the QR code
    wait_offline_ready(page)
    page.get_by_label("这部手机的名称").fill("收银台手机")
    page.get_by_role("button", name="绑定").click()
    expect(page.get_by_role("status").filter(has_text="已绑定：Sync shop")).to_be_visible()
    assert "code=" not in page.url

    phone.set_offline(True)
    page.goto(live_server.url + "/en/record?code=51")
    page.get_by_label("Terminal", exact=True).fill("Till 2")
    page.get_by_label("Recorded by").fill("Chen")
    page.get_by_label("Photos or screenshots (several allowed)").set_input_files([tmp_path / "a.jpg", tmp_path / "b.png"])
    page.locator("#f-photos-preview img").nth(1).wait_for()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/en/incident?id=*")
    expect(page.locator("#outbox-text")).to_contain_text("1 records and 2 photos waiting to sync")
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
    page = phone.new_page()
    page.goto(enrollment_url(live_server, "Revoked shop"))
    wait_offline_ready(page)
    page.get_by_label("这部手机的名称").fill("old phone")
    page.get_by_role("button", name="绑定").click()
    expect(page.get_by_role("status").filter(has_text="已绑定")).to_be_visible()
    device = page.evaluate("async () => (await import('/static/js/db.js')).getMeta('device')")
    cli(live_server.data, "devices", "revoke", device)

    page.goto(live_server.url + "/en/record?code=T2")
    page.get_by_label("Terminal", exact=True).fill("Till 9")
    page.get_by_label("Recorded by").fill("Ma")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/en/incident?id=*")  # opening a page syncs, and the server refuses
    expect(page.locator("#outbox-text")).to_contain_text("This phone's access was revoked: enroll it again")
    expect(page.locator("#outbox-text")).to_contain_text("1 records and 0 photos waiting to sync")
    expect(page.get_by_role("link", name="Enroll this phone")).to_be_visible()
    expect(page.get_by_role("button", name="Sync now")).to_be_hidden()
    assert server_rows(live_server, "SELECT count(*) FROM events") == [(0,)]
