"""Pushing events over the API: exactly once, per-event answers, and bad input refused whole."""

import json

import msgspec
import pytest

from sync.types import MAX_BATCH
from tests import factories as f
from tests import images
from tests.fixtures import add_shop, count, enroll
from tests.images import sha


@pytest.fixture
def phone(client):
    return enroll(client, add_shop(client))


def push(client, phone, events, **kwargs):
    return client.post("/api/v1/events", headers=phone.headers, json={"events": events}, **kwargs)


def statuses(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["status"] for r in response.json()["results"]]


def test_the_same_batch_pushed_three_times_is_stored_once(client, phone):
    incident = f.opened()
    batch = [incident, f.step(incident["id"]), f.noted(incident["id"]), f.closed(incident["id"]), f.checklist(),
             f.maintenance()]
    assert statuses(push(client, phone, batch)) == ["stored"] * 6
    for _ in range(2):
        assert statuses(push(client, phone, batch)) == ["duplicate"] * 6
    assert count(client, "events") == 6
    assert count(client, "incidents") == count(client, "checklist_runs") == count(client, "maintenance") == 1


def test_same_id_other_content_is_a_conflict_and_the_stored_event_is_unchanged(client, phone):
    event = f.opened(note="first")
    push(client, phone, [event])
    db = client.app.state.store.db
    before = db.execute("SELECT * FROM events").fetchall()
    changed = {**event, "payload": {**event["payload"], "note": "second"}}
    result = push(client, phone, [changed]).json()["results"][0]
    assert result["status"] == "conflict"
    assert result["id"] == event["id"]
    assert db.execute("SELECT * FROM events").fetchall() == before
    assert db.execute("SELECT note FROM incidents").fetchall() == [("first",)]
    assert count(client, "conflicts") == 1


def test_each_stored_event_names_the_token_shop(client, phone):
    push(client, phone, [f.opened(), f.opened(shop=phone.shop)])
    bodies = client.app.state.store.db.execute("SELECT body, shop_id, pushed_by FROM events").fetchall()
    assert [(json.loads(b)["shop"], s, p) for b, s, p in bodies] == [(phone.shop, phone.shop, phone.device)] * 2


@pytest.mark.parametrize(("event", "reason"), [
    ({**f.opened(), "type": "incident.deleted"}, "unknown event type 'incident.deleted'"),
    ({**f.opened(), "at": "yesterday"}, "Invalid RFC3339 encoded datetime - at `$.at`"),
    ({**f.opened(), "blobs": "abc"}, "Expected `array`, got `str` - at `$.blobs`"),
    ({**f.checklist(), "payload": {**f.checklist()["payload"], "items": []}},
     "Expected `array` of length >= 1 - at `$.payload.items`"),
    ({**f.opened(), "shop": 999}, "event belongs to shop 999"),
])
def test_a_bad_event_is_rejected_with_its_reason(client, phone, event, reason):
    good = f.opened()
    response = push(client, phone, [event, good])
    bad_result, good_result = response.json()["results"]
    assert bad_result["status"] == "rejected"
    assert bad_result["id"] == event["id"]
    assert bad_result["reason"].startswith(reason)
    assert good_result["status"] == "stored"
    assert count(client, "events") == 1


@pytest.mark.parametrize(("content", "status", "detail"), [
    (b'{"events": [', 400, "body is not valid JSON: "),
    (b"", 400, "body is not valid JSON: "),
    (b'{"events": "all of them"}', 400, "body: Expected `array`, got `str` - at `$.events`"),
    (b'{"events": [], "extra": 1}', 400, "body: Object contains unknown field `extra`"),
    (b'{"events": [' + b",".join([msgspec.json.encode(f.opened())] * (MAX_BATCH + 1)) + b"]}", 413,
     f"events: {MAX_BATCH + 1} events in one push; the limit is {MAX_BATCH}"),
])
def test_a_bad_push_body_is_refused_whole_and_nothing_stored(client, phone, content, status, detail):
    response = client.post("/api/v1/events", headers=phone.headers, content=content)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith(detail)
    assert count(client, "events") == 0


def test_without_a_token_nothing_is_stored(client, phone):
    response = client.post("/api/v1/events", json={"events": [f.opened()]})
    assert (response.status_code, response.json()["detail"]) == (401, "missing bearer token")
    assert count(client, "events") == 0


def test_an_event_naming_a_photo_not_sent_is_rejected_until_it_is(client, phone):
    photo = images.jpeg()
    event = f.opened(blobs=[sha(photo)])
    result = push(client, phone, [event]).json()["results"][0]
    assert (result["status"], result["missing"]) == ("rejected", [sha(photo)])
    assert client.put(f"/api/v1/blobs/{sha(photo)}", headers=phone.headers, content=photo).status_code == 201
    assert statuses(push(client, phone, [event])) == ["stored"]
    assert client.app.state.store.db.execute("SELECT photos_count FROM incidents").fetchall() == [(1,)]


def test_a_photo_another_shop_sent_does_not_count(client, phone):
    stranger = enroll(client, add_shop(client, "B"), device="5d1f0c3e-2b4a-4c6d-8e9f-0a1b2c3d4e5f")
    photo = images.jpeg()
    client.put(f"/api/v1/blobs/{sha(photo)}", headers=stranger.headers, content=photo)
    result = push(client, phone, [f.opened(blobs=[sha(photo)])]).json()["results"][0]
    assert result["missing"] == [sha(photo)]


def test_a_failure_mid_batch_stores_nothing(client, phone, monkeypatch):
    from sync import views

    def crash(self, conn):
        raise RuntimeError("disk full")

    monkeypatch.setattr(views.Views, "write", crash)  # fails after the events are inserted
    response = push(client, phone, [f.opened(), f.checklist()])
    assert response.status_code == 500
    assert response.json()["detail"] == "internal server error"
    assert count(client, "events") == count(client, "incidents") == 0


def test_a_database_locked_by_another_process_answers_503_and_loses_nothing(settings, tmp_path):
    """Another process (the CLI, a backup) holds the write lock past the busy timeout: try again later."""
    import sqlite3

    from litestar.testing import TestClient

    from server.app import create_app

    with TestClient(app=create_app(msgspec.structs.replace(settings, busy_timeout_ms=50))) as client:
        phone = enroll(client, add_shop(client))
        other = sqlite3.connect(tmp_path / "data" / "posaid.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        event = f.opened()
        busy = push(client, phone, [event])
        other.execute("ROLLBACK")
        assert (busy.status_code, busy.headers["retry-after"]) == (503, "1")
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.json()["detail"] == "the database is busy; try again in a moment"
        assert statuses(push(client, phone, [event])) == ["stored"]


def test_card_numbers_never_reach_the_database(client, phone, tmp_path):
    push(client, phone, [f.opened(note="card 6222021234567890128 stuck"), f.maintenance(note="4111-1111-1111-1111")])
    client.app.state.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("posaid.db*"))
    assert b"6222021234567890128" not in data and b"4111-1111-1111-1111" not in data
    assert "622202*********0128".encode() in data
