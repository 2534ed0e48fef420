"""Alerts: rules judged by when records happened, one alert per episode, late ones marked; webhooks
signed and retried with backoff against a real receiver; email through a real SMTP server; the
home page's live stream."""

import hashlib
import hmac
import http.server
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from litestar.testing import TestClient

from server import alerts, queries, writes
from server.app import create_app
from server.settings import Settings
from server.store import now
from tests.fixtures import (
    OTHER_DEVICE,
    add_shop,
    add_user,
    enroll,
    free_port,
    office_post,
    push,
    sign_in,
)
from tests.server.office.conftest import incident_at, office_of, set_region


class Receiver:
    """A webhook receiver in a thread: answers 500 to the first `fail` requests, then 200."""

    def __init__(self, fail: int = 2):
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = 500 if len(receiver.requests) <= fail else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"try again" if status == 500 else b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, box
    controller.stop()


@pytest.fixture
def quick(tmp_path, content_dir, smtp):
    """An app whose alert worker looks every 0.1 s and retries after 0.05 s, with a real SMTP server."""
    controller, _ = smtp
    settings = Settings(data=str(tmp_path / "data"), content=str(content_dir), alert_poll_seconds=0.1,
                        alert_retry_seconds=0.05, smtp_host="127.0.0.1", smtp_port=controller.port,
                        smtp_sender="alerts@posaid.test")
    with TestClient(app=create_app(settings)) as client:
        yield client


def wait_for(check, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("waited in vain")


def rows(client, sql, params=()):
    with client.app.state.store.read() as db:
        return db.execute(sql, params).fetchall()


def test_three_t2_within_an_hour_raise_one_alert_delivered_signed_after_two_500s(quick, smtp):
    receiver = Receiver(fail=2)
    try:
        add_user(quick, "boss")
        assert sign_in(quick, "boss").status_code == 303
        page = office_post(quick, "/office/alerts/targets", {"kind": "webhook", "address": receiver.url},
                           page="/office/alerts")
        secret = page.text.split('<p class="code">')[1].split("</p>")[0]
        assert office_post(quick, "/office/alerts/targets", {"kind": "email", "address": "ops@posaid.test"},
                           page="/office/alerts").status_code == 303
        shop = add_shop(quick, "门店 Burst")
        phone = enroll(quick, shop)
        start = datetime.now(UTC) - timedelta(minutes=50)
        first = [incident_at(start + timedelta(minutes=m)) for m in (0, 20, 40)]
        assert push(quick, phone, *first) == ["stored"] * 3
        wait_for(lambda: len(receiver.requests) >= 3)
        headers, body = receiver.requests[-1]
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Posaid-Signature"] == expected
        ids = {json.loads(b)["id"] for _, b in receiver.requests}
        assert len(ids) == 1 and headers["X-Posaid-Delivery"] in ids  # one delivery, tried three times
        alert = json.loads(body)["alert"]
        assert (alert["kind"], alert["count"], alert["shop_name"], alert["late"]) == ("shop_code", 3, "门店 Burst", False)
        tries = rows(quick, "SELECT t.status, t.answer FROM delivery_tries t JOIN deliveries d ON d.id = t.delivery_id "
                            "JOIN alert_targets a ON a.id = d.target_id WHERE a.kind = 'webhook' ORDER BY t.id")
        assert tries == [("500", "try again"), ("500", "try again"), ("200", "ok")]
        _, box = smtp
        wait_for(lambda: box.messages)
        assert box.messages[0].rcpt_tos == ["ops@posaid.test"]
        assert "门店 Burst" in box.messages[0].content.decode()
        # A fourth T2 of the same hour counts in the same alert: none is raised again.
        assert push(quick, phone, incident_at(start + timedelta(minutes=45))) == ["stored"]
        wait_for(lambda: rows(quick, "SELECT count FROM alerts")[0][0] == 4)
        assert len(rows(quick, "SELECT id FROM alerts")) == 1
        assert len(receiver.requests) == 3
        log = quick.get("/office/alerts/targets/1").text
        assert log.count("<strong>500</strong>") == 2 and "<strong>200</strong>" in log and "已送达" in log
    finally:
        receiver.close()


def test_records_synced_late_are_judged_by_when_they_happened_and_marked_late(client):
    shop = add_shop(client, "门店 Late")
    phone = enroll(client, shop)
    long_ago = datetime.now(UTC) - timedelta(days=2)
    spread = [incident_at(long_ago + timedelta(minutes=m)) for m in (0, 70, 140)]  # never three in an hour
    burst = [incident_at(long_ago + timedelta(hours=5, minutes=m)) for m in (0, 10, 30)]
    assert push(client, phone, *spread, *burst) == ["stored"] * 6
    with client.app.state.store.write() as db:
        alerts.evaluate(db)
    found = rows(client, "SELECT kind, count, first_at, late FROM alerts WHERE kind = 'shop_code'")
    assert len(found) == 1
    kind, count, first_at, late = found[0]
    assert (count, late) == (3, 1) and first_at.startswith((long_ago + timedelta(hours=5)).strftime("%Y-%m-%dT%H"))


def test_shops_of_one_acquirer_with_the_same_code_within_an_hour(client):
    moment = datetime.now(UTC) - timedelta(minutes=30)
    devices = ["6e6e6e6e-1111-4222-8333-00000000000" + str(n) for n in range(3)]
    for n, device in enumerate(devices):
        shop = add_shop(client, f"门店 Acq {n}")
        set_region(client, shop, f"门店 Acq {n}", "华南 South")
        with client.app.state.store.write() as db:
            db.execute("UPDATE terminals SET acquirer = '银联商务' WHERE shop_id = ?", [shop])
        phone = enroll(client, shop, device)
        assert push(client, phone, incident_at(moment + timedelta(minutes=n * 5), code="91", terminal="Till 1",
                                               device=device)) == ["stored"]
    with client.app.state.store.write() as db:
        alerts.evaluate(db)
    found = rows(client, "SELECT subject, count, detail FROM alerts WHERE kind = 'group_code'")
    assert [(s, c) for s, c, _ in found] == [("acquirer:银联商务:91", 3)]
    assert len(json.loads(found[0][2])["shops"]) == 3


def test_two_workers_never_claim_the_same_delivery(client):
    office_of(client).worker.stop()  # the app's own worker would claim it first
    store = client.app.state.store
    at = now()
    with store.write() as db:
        shop = writes.add_shop(db, "门店 Claim", at)
        target = writes.add_alert_target(db, "webhook", "http://127.0.0.1:9/", "s", at)
        writes.raise_alert(db, 1, "shop_code", "k1", "shop:x:T2", shop, None, 3, at, at, False, "{}", at)
    until = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    with store.write() as db:
        first = writes.claim_deliveries(db, "a", now(), until)
    with store.write() as db:
        second = writes.claim_deliveries(db, "b", now(), until)
    assert len(first) == 1 and second == []
    assert target


def test_only_an_admin_edits_the_rules(admin, signed_in):
    viewer = signed_in("wang", "viewer")
    assert office_post(viewer, "/office/alerts/rules/1", {"kind": "shop_code", "count": "4", "minutes": "30",
                                                          "code": "T2", "enabled": "true"},
                       page="/office/alerts").status_code == 403
    assert office_post(admin, "/office/alerts/rules/1", {"kind": "shop_code", "count": "4", "minutes": "30",
                                                         "code": "T2", "enabled": "true"},
                       page="/office/alerts").status_code == 303
    with admin.app.state.store.read() as db:
        rule = queries.alert_rule(db, 1)
    assert (rule.count, rule.minutes, rule.code, rule.enabled) == (4, 30, "T2", True)
    assert "一家门店 30 分钟内出现 4 次" in admin.get("/office/alerts").text
    assert office_post(admin, "/office/alerts/rules/1", {"kind": "shop_code", "count": "0", "minutes": "30"},
                       page="/office/alerts").status_code == 400


def test_the_home_page_is_told_when_records_arrive(quick, monkeypatch):
    from server.office import alerts as office_alerts

    monkeypatch.setattr(office_alerts, "LIVE_SECONDS", 3)  # the test client waits for the stream's end
    add_user(quick, "boss")
    assert sign_in(quick, "boss").status_code == 303
    home = quick.get("/office/").text
    assert "data-live" in home and "/office/static/office.js" in home
    shop = add_shop(quick, "门店 Live")
    phone = enroll(quick, shop, OTHER_DEVICE)
    events: list[str] = []

    def later():
        time.sleep(1.2)
        push(quick, phone, incident_at(datetime.now(UTC), device=OTHER_DEVICE))

    threading.Thread(target=later).start()
    with quick.stream("GET", "/office/live") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            events.append(line)
            if line.startswith("event: records"):
                break
    assert any(line.startswith("event: records") for line in events)
