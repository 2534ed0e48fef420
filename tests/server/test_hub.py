"""`posaid serve --role hub` runs its own forwarder: real head office and hub processes on loopback.

The hub forwards as soon as its phones push, keeps what head office refuses without stopping for it,
says how it stands in `posaid status`, and brings down head office's register and content.
"""

import json
import shutil
import time

import pytest

from tests import factories as f
from tests.fixtures import (
    OTHER_DEVICE,
    LiveServer,
    call,
    cli,
    code_for,
    free_port,
    rows,
)

pytestmark = pytest.mark.slow

PHONE = "3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def eventually(check, seconds: float = 20):
    """Wait until check() is true (the hub works in the background); fail with its last value."""
    deadline = time.monotonic() + seconds
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"still {value!r} after {seconds} s")
        time.sleep(0.2)
    return value


@pytest.fixture
def hq_and_hub(tmp_path, content_dir):
    hub_content = tmp_path / "hub-content"
    shutil.copytree(content_dir, hub_content)
    hq = LiveServer(tmp_path / "hq", content_dir, free_port()).start()
    hub = LiveServer(tmp_path / "hub", None, free_port(), role="hub").start()
    yield hq, hub
    hub.stop()
    hq.stop()


def test_a_hub_forwards_by_itself_and_brings_down_the_register_and_content(hq_and_hub, content_dir):
    hq, hub = hq_and_hub
    # Head office's register for the shop the hub belongs to.
    cli(hub, "upstream", "enroll", hq.url, code_for(hq, "门店 A", "--hub"))
    rows(hq, "UPDATE shops SET region = '华东', acquirer_phone = '95516' WHERE name = '门店 A'")
    rows(hq, "INSERT INTO terminals (shop_id, name, model, tid) SELECT id, '收银台 9', 'X990', '87654321' FROM shops "
             "WHERE name = '门店 A'")
    # A device head office knows in another shop: the hub may not speak for it.
    other = call(hq, "POST", "/api/v1/enroll", json.dumps(
        {"code": code_for(hq, "Elsewhere"), "device": OTHER_DEVICE, "name": "someone else's"}).encode())
    assert other["shop"]["name"] == "Elsewhere"

    phone = call(hub, "POST", "/api/v1/enroll", json.dumps(
        {"code": cli(hub, "codes", "issue", "1").stdout.split("code: ")[1].split()[0], "device": PHONE,
         "name": "till phone"}).encode())["token"]
    stranger = call(hub, "POST", "/api/v1/enroll", json.dumps(
        {"code": cli(hub, "codes", "issue", "1").stdout.split("code: ")[1].split()[0], "device": OTHER_DEVICE,
         "name": "same id"}).encode())["token"]
    refused = f.opened(device=OTHER_DEVICE)
    call(hub, "POST", "/api/v1/events", json.dumps({"events": [refused]}).encode(), stranger)
    mine = [f.opened(device=PHONE) for _ in range(3)]
    call(hub, "POST", "/api/v1/events", json.dumps({"events": mine}).encode(), phone)

    # No `posaid forward`: the hub's own forwarder sends them, past the refused one.
    eventually(lambda: rows(hq, "SELECT count(*) FROM events") == [(3,)])
    assert {r[0] for r in rows(hq, "SELECT id FROM events")} == {e["id"] for e in mine}
    status = status_saying(hub, "link up")
    assert "waiting: 0 events, 0 photos (0 bytes)" in status
    assert "refused by head office: 1" in status
    assert f"{refused['id']}: rejected: device: {OTHER_DEVICE} is enrolled in another shop" in status

    # The register came down: the hub's phones pull head office's terminals and support line.
    pulled = eventually(lambda: (p := call(hub, "GET", "/api/v1/pull", token=phone))["shop"].get("region") and p)
    assert pulled["shop"]["acquirer_phone"] == "95516"
    assert [(t["name"], t["tid"]) for t in pulled["terminals"]] == [("收银台 9", "87654321")]

    # Head office's content changes; the hub's next round brings it down and serves it.
    t2 = content_dir / "codes" / "T2.toml"
    t2.write_text(t2.read_text(encoding="utf-8").replace(
        'en = "Sorry, this payment', 'en = "(new) Sorry, this payment', 1), encoding="utf-8")
    hq.restart()
    call(hub, "POST", "/api/v1/events", json.dumps({"events": [f.opened(device=PHONE)]}).encode(), phone)
    eventually(lambda: "(new) Sorry, this payment" in _page(hub, "/en/codes/T2"), seconds=30)
    assert (hub.data / "content" / "codes" / "T2.toml").is_file()


def test_a_hub_that_cannot_reach_head_office_says_so_and_catches_up(hq_and_hub):
    hq, hub = hq_and_hub
    cli(hub, "upstream", "enroll", hq.url, code_for(hq, "门店 B", "--hub"))
    hq.stop()
    phone = call(hub, "POST", "/api/v1/enroll", json.dumps(
        {"code": cli(hub, "codes", "issue", "1").stdout.split("code: ")[1].split()[0], "device": PHONE,
         "name": "till phone"}).encode())["token"]
    events = [f.opened(device=PHONE) for _ in range(2)]
    call(hub, "POST", "/api/v1/events", json.dumps({"events": events}).encode(), phone)
    status = status_saying(hub, "link down")
    assert "waiting: 2 events" in status and f"cannot reach 127.0.0.1:{hq.port}" in status
    hq.start()
    call(hub, "POST", "/api/v1/events", json.dumps({"events": [f.opened(device=PHONE)]}).encode(), phone)
    eventually(lambda: rows(hq, "SELECT count(*) FROM events") == [(3,)], seconds=60)


def status_saying(hub: LiveServer, text: str) -> str:
    """`posaid status` once it says text."""
    return eventually(lambda: text in (out := cli(hub, "status").stdout) and out)


def _page(server: LiveServer, path: str) -> str:
    import urllib.request

    with urllib.request.urlopen(server.url + path) as response:
        return response.read().decode()


def test_a_hub_holds_events_of_a_newer_format_until_head_office_takes_it(tmp_path, content_dir):
    """Head office still on format 1, a phone on format 2: the hub sends what head office takes,
    holds the rest (neither dropped nor retried in a loop), and sends it once head office upgrades."""
    hq = LiveServer(tmp_path / "hq", content_dir, free_port(), max_format=1).start()
    hub = LiveServer(tmp_path / "hub", None, free_port(), role="hub", forward_every_seconds=1).start()
    try:
        cli(hub, "upstream", "enroll", hq.url, code_for(hq, "门店 C", "--hub"))
        phone = call(hub, "POST", "/api/v1/enroll", json.dumps(
            {"code": cli(hub, "codes", "issue", "1").stdout.split("code: ")[1].split()[0], "device": PHONE,
             "name": "till phone"}).encode())["token"]
        old, new = f.opened(device=PHONE), {**f.opened(device=PHONE), "v": 2}
        new["payload"]["transaction"] = {"amount": "88.00", "charged": "yes", "rrn": "123456789012"}
        answer = call(hub, "POST", "/api/v1/events", json.dumps({"events": [old, new]}).encode(), phone)
        assert [r["status"] for r in answer["results"]] == ["stored", "stored"]  # the hub is on format 2
        status = status_saying(hub, "held back: 1 events")
        assert "refused by head office: 0" in status
        assert rows(hq, "SELECT id FROM events") == [(old["id"],)]

        hq.env["POSAID_MAX_FORMAT"] = "2"  # head office upgrades
        hq.restart()
        eventually(lambda: rows(hq, "SELECT count(*) FROM events") == [(2,)], seconds=30)
        assert rows(hq, "SELECT tx_amount, tx_charged FROM incidents WHERE id = ?", [new["id"]]) == [(88.0, "yes")]
        eventually(lambda: "held back" not in cli(hub, "status").stdout)
        time.sleep(2)  # more rounds: nothing is sent twice
        assert rows(hq, "SELECT count(*), count(DISTINCT id) FROM events") == [(2, 2)]
    finally:
        hub.stop()
        hq.stop()
