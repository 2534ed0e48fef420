"""A hub forwards what its phones pushed to head office: two real servers, real HTTP."""

import hashlib
import io
import json

import pytest
from PIL import Image

from tests.fixtures import LiveServer, call, cli, code_for, free_port, rows, uuid7

pytestmark = pytest.mark.slow

PHONE = "3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def incident(n: int, blobs=()) -> dict:
    return {"type": "incident.opened", "id": uuid7(1_777_000_000_000 + n), "device": PHONE, "at": "2026-11-29T09:00:00+08:00",
            "recorded_by": "王芳", "blobs": list(blobs),
            "payload": {"code": "T2", "terminal": "收银台 1", "occurred_at": "2026-11-29T08:58:00+08:00"}}


@pytest.fixture
def hub_and_hq(tmp_path, content_dir):
    hq = LiveServer(tmp_path / "hq", content_dir, free_port()).start()
    hub = LiveServer(tmp_path / "hub", content_dir, free_port()).start()
    yield hub, hq
    hub.stop()
    hq.stop()


def test_hub_forwards_events_and_photos_exactly_once(hub_and_hq):
    hub, hq = hub_and_hq
    phone = call(hub, "POST", "/api/v1/enroll", json.dumps(
        {"code": code_for(hub, "Shop at the hub"), "device": PHONE, "name": "till phone"}).encode())["token"]
    photo = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 40, 40)).save(photo, "JPEG", quality=80)
    photo = photo.getvalue()
    sha = hashlib.sha256(photo).hexdigest()
    call(hub, "PUT", f"/api/v1/blobs/{sha}", photo, phone, "application/offset+octet-stream")
    first = [incident(0, [sha])] + [incident(n) for n in range(1, 600)]
    for start in (0, 500):
        results = call(hub, "POST", "/api/v1/events", json.dumps({"events": first[start:start + 500]}).encode(), phone)
        assert {r["status"] for r in results["results"]} == {"stored"}

    enrolled = cli(hub, "upstream", "enroll", hq.url, code_for(hq, "Shop at head office", "--hub"))
    assert "enrolled with" in enrolled.stdout
    out = cli(hub, "forward").stdout
    assert "forwarded 600 events (600 stored, 0 already there), 1 photos, " in out
    assert rows(hq, "SELECT count(*), count(DISTINCT id) FROM events") == [(600, 600)]
    assert rows(hq, "SELECT DISTINCT s.name FROM events e JOIN shops s ON s.id = e.shop_id") == [("Shop at head office",)]
    assert (hq.data / "blobs" / sha[:2] / sha[2:]).read_bytes() == photo
    assert rows(hq, f"SELECT photos_count FROM incidents WHERE id = '{first[0]['id']}'") == [(1,)]

    # Nothing new: nothing sent. New events: only those.
    assert "forwarded 0 events (0 stored, 0 already there), 0 photos, 0 bytes" in cli(hub, "forward").stdout
    call(hub, "POST", "/api/v1/events", json.dumps({"events": [incident(700)]}).encode(), phone)
    assert "forwarded 1 events (1 stored, 0 already there), 0 photos" in cli(hub, "forward").stdout

    # A hub that lost its cursor (a crash before it was saved) sends again: head office stores nothing twice.
    rows(hub, "UPDATE upstream SET cursor = 0")
    assert "forwarded 601 events (0 stored, 601 already there), 0 photos" in cli(hub, "forward").stdout
    assert rows(hq, "SELECT count(*) FROM events") == [(601,)]


def test_forward_without_upstream_or_with_head_office_down(hub_and_hq):
    hub, hq = hub_and_hq
    result = cli(hub, "forward", check=False)
    assert result.exit_code == 1
    assert "not enrolled with head office" in result.stderr
    cli(hub, "upstream", "enroll", hq.url, code_for(hq, "HQ shop", "--hub"))
    phone = call(hub, "POST", "/api/v1/enroll", json.dumps(
        {"code": code_for(hub, "Hub shop"), "device": PHONE, "name": "till phone"}).encode())["token"]
    call(hub, "POST", "/api/v1/events", json.dumps({"events": [incident(1)]}).encode(), phone)
    hq.stop()
    result = cli(hub, "forward", check=False)
    assert result.exit_code == 1
    assert f"upstream: cannot reach 127.0.0.1:{hq.port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert rows(hub, "SELECT cursor FROM upstream") == [(0,)]  # nothing counted as sent
