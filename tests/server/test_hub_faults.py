"""The link from a hub to head office, broken every way it breaks in a shop: real head office and hub
processes on loopback, a proxy between them that cuts connections mid-batch and mid-photo, goes
silent without closing, and answers 500 and 503; kill -9 of the hub while it forwards and of head
office while it ingests. At the end head office holds exactly the hub's events, once each, the
same bodies, and byte-identical photos; and nothing any server answered "stored" for is missing.
Head office runs both ways: SQLite and a folder, and PostgreSQL and a bucket of a real S3 server.
"""

import hashlib
import json
import threading
import time

import msgspec
import pytest

from tests import factories as f
from tests import images
from tests.fixtures import (
    LiveServer,
    Proxy,
    call,
    cli,
    code_for,
    free_port,
    held_photo,
    rows,
)

pytestmark = pytest.mark.slow

PHONE = "3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
FAST = dict(upstream_timeout_seconds=2, forward_every_seconds=1, forward_retry_seconds=0.2)


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds} s")
        time.sleep(0.2)
    return value


def put_photo(server: LiveServer, token: str, data: bytes) -> None:
    call(server, "PUT", f"/api/v1/blobs/{hashlib.sha256(data).hexdigest()}", data, token,
         "application/offset+octet-stream")


def events_of(server: LiveServer) -> dict[str, dict]:
    """Each event held, by id, as stored less the shop (each server files it under its own shop)."""
    return {event_id: {k: v for k, v in json.loads(body).items() if k != "shop"}
            for event_id, body in rows(server, "SELECT id, body FROM events")}


def test_every_event_and_photo_arrives_once_through_cuts_silence_errors_and_kills(tmp_path, content_dir, deployment):
    hq = LiveServer(tmp_path / "hq", content_dir, free_port(), **deployment).start()
    proxy = Proxy(hq.port)
    hub = LiveServer(tmp_path / "hub", content_dir, free_port(), role="hub", **FAST).start()
    try:
        cli(hub, "upstream", "enroll", proxy.url, code_for(hq, "门店 A", "--hub"))
        token = call(hub, "POST", "/api/v1/enroll", json.dumps({
            "code": code_for(hub, "门店 A"), "device": PHONE, "name": "till phone"}).encode())["token"]

        # The link starts cutting every connection part-way while the phone syncs to the hub.
        proxy.set("cut")
        photos = [images.noise_png(150_000 + 1000 * n) for n in range(6)]
        for photo in photos:
            put_photo(hub, token, photo)
        stored = []
        for start in range(0, 1200, 400):
            batch = [f.opened(device=PHONE, note=f"outage {start + n}",
                              blobs=[hashlib.sha256(photos[(start + n) % 6]).hexdigest()] if n < 6 else [])
                     for n in range(400)]
            answer = call(hub, "POST", "/api/v1/events", json.dumps({"events": batch}).encode(), token)
            stored += [r["id"] for r in answer["results"] if r["status"] == "stored"]
        assert len(stored) == 1200
        time.sleep(3)
        proxy.set("silent")  # a half-open link: the forwarder's timeouts must notice
        time.sleep(3)
        proxy.set("503")
        time.sleep(1.5)
        proxy.set("500")
        time.sleep(1.5)

        # The link comes back; the hub is killed mid-forward, then head office mid-ingest.
        proxy.set("pass")
        time.sleep(0.3)
        hub.kill()
        hub.start()
        time.sleep(0.3)
        hq.kill()
        hq.start()

        wait_for(lambda: "waiting: 0 events, 0 photos" in cli(hub, "status").stdout, 90, "the hub catching up")
        at_hub, at_hq = events_of(hub), events_of(hq)
        assert set(stored) <= set(at_hub)  # every event the hub answered "stored" for is held
        assert at_hq == at_hub  # the same events, once each, the same bodies
        assert rows(hq, "SELECT count(*), count(DISTINCT id) FROM events") == [(1200, 1200)]
        for photo in photos:
            sha = hashlib.sha256(photo).hexdigest()
            assert held_photo(hq, sha) == photo
        status = cli(hub, "status").stdout
        assert "refused by head office: 0" in status
        assert "last error: " in status  # the forwarder really met the broken link (a cut upload or the link)
    finally:
        hub.stop()
        hq.stop()
        proxy.close()


def test_kill_9_never_loses_what_was_acknowledged(tmp_path, content_dir):
    """Pushes go on while head office is killed: every event it answered "stored" is there after."""
    hq = LiveServer(tmp_path / "hq", content_dir, free_port()).start()
    try:
        token = call(hq, "POST", "/api/v1/enroll", json.dumps({
            "code": code_for(hq, "门店 K"), "device": PHONE, "name": "p"}).encode())["token"]
        acknowledged, stop = [], threading.Event()

        def push_until_killed() -> None:
            while not stop.is_set():
                batch = [f.opened(device=PHONE) for _ in range(200)]
                try:
                    answer = call(hq, "POST", "/api/v1/events", json.dumps({"events": batch}).encode(), token)
                except OSError:
                    return  # the server is gone: whatever was not answered may or may not be held
                acknowledged.extend(r["id"] for r in answer["results"] if r["status"] == "stored")

        pusher = threading.Thread(target=push_until_killed)
        pusher.start()
        wait_for(lambda: len(acknowledged) >= 2000, 60, "pushes under way")
        hq.kill()
        stop.set()
        pusher.join()
        hq.start()
        held = {event_id for (event_id,) in rows(hq, "SELECT id FROM events")}
        assert set(acknowledged) <= held, f"{len(set(acknowledged) - held)} acknowledged events lost"
        bodies = rows(hq, "SELECT body FROM events LIMIT 5")
        assert all(msgspec.json.decode(body)["type"] == "incident.opened" for (body,) in bodies)
    finally:
        hq.stop()
