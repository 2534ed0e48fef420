"""Pushing events over the API: exactly once, per-event answers, and bad input refused whole."""

import json

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.settings import Settings
from sync.types import MAX_BATCH
from tests import factories as f
from tests import images
from tests.cards import card_in_text
from tests.fixtures import HUB, OTHER_DEVICE, add_shop, count, enroll, stored_bytes
from tests.images import sha


@pytest.fixture(name="settings")  # the module uses hypothesis's settings too
def on_each_engine(tmp_path, content_dir, database_where) -> Settings:
    """Each test on SQLite and on PostgreSQL."""
    return Settings(data=str(tmp_path / "data"), content=str(content_dir), **database_where)


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
    ({**f.opened(), "shop": 999}, "shop: the event belongs to shop 999"),
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
        if settings.database:  # PostgreSQL: another session holds the log's table
            import psycopg

            other = psycopg.connect(settings.database, autocommit=True)
            other.execute("BEGIN")
            other.execute("LOCK TABLE events IN EXCLUSIVE MODE")
        else:
            other = sqlite3.connect(tmp_path / "data" / "posaid.db", isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
        event = f.opened()
        busy = push(client, phone, [event])
        other.execute("ROLLBACK")
        other.close()
        assert (busy.status_code, busy.headers["retry-after"]) == (503, "1")
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.json()["detail"] == "the database is busy; try again in a moment"
        assert statuses(push(client, phone, [event])) == ["stored"]


def test_card_numbers_never_reach_the_database(client, phone, tmp_path):
    push(client, phone, [f.opened(note="card 6222021234567890128 stuck"), f.maintenance(note="4111-1111-1111-1111")])
    data = stored_bytes(client)
    assert b"6222021234567890128" not in data and b"4111-1111-1111-1111" not in data
    assert "622202*********0128".encode() in data


def test_a_phone_pushes_only_its_own_events(client, phone):
    forged = f.opened(device=OTHER_DEVICE)
    result = push(client, phone, [forged]).json()["results"][0]
    assert (result["status"], result["reason"]) == (
        "rejected", f"device: the event is device {OTHER_DEVICE}'s; a phone pushes only its own events")


def test_a_hub_pushes_for_its_shops_phones_but_not_for_another_shops(client):
    shop, other_shop = add_shop(client, "Hub shop"), add_shop(client, "Other")
    hub = enroll(client, shop, device=HUB, kind="hub")
    enroll(client, other_shop, device=OTHER_DEVICE)
    own_phone = "7e3c1a2b-4d5e-4f6a-8b9c-0d1e2f3a4b5c"  # enrolled at the hub, unknown here
    answer = push(client, hub, [f.opened(device=own_phone), f.opened(device=OTHER_DEVICE)]).json()["results"]
    assert [r["status"] for r in answer] == ["stored", "rejected"]
    assert answer[1]["reason"] == f"device: {OTHER_DEVICE} is enrolled in another shop"


def test_event_ids_belong_to_their_shop(client, phone):
    other = enroll(client, add_shop(client, "B"), device=OTHER_DEVICE)
    event = f.opened(note="shop A's")
    assert statuses(push(client, phone, [event])) == ["stored"]
    # Another shop using the same id neither collides with it nor learns that it exists.
    copy = {**event, "device": OTHER_DEVICE, "payload": {**event["payload"], "note": "shop B's"}}
    assert statuses(push(client, other, [copy])) == ["stored"]
    assert statuses(push(client, phone, [event])) == ["duplicate"]
    notes = client.app.state.store.db.execute("SELECT shop_id, note FROM incidents ORDER BY shop_id").fetchall()
    assert notes == [(phone.shop, "shop A's"), (other.shop, "shop B's")]


@pytest.mark.parametrize(("mangle", "reason"), [
    (lambda e: {**e, "at": "0001-01-01T00:00:00+01:00"}, "at: 0001-01-01T00:00:00+01:00 is not a time this server"),
    (lambda e: {**e, "at": "9999-12-31T23:59:59-01:00"}, "at: 9999-12-31T23:59:59-01:00 is not a time this server"),
    (lambda e: {**e, "payload": {**e["payload"], "occurred_at": "0001-01-01T00:30:00+01:00"}},
     "payload.occurred_at: 0001-01-01T00:30:00+01:00 is not a time"),
    (lambda e: {**e, "id": e["id"] + "\n"}, "Expected `str` matching regex"),
    (lambda e: {**e, "recorded_by": "Li\n"}, "Expected `str` matching regex"),
    (lambda e: {**e, "recorded_by": "Li\u202eiL"}, "Expected `str` matching regex"),
    (lambda e: {**e, "payload": {**e["payload"], "terminal": "Till\x071"}}, "Expected `str` matching regex"),
    (lambda e: {**e, "payload": {**e["payload"], "code": "T2\n"}}, "Expected `str` matching regex"),
])
def test_times_out_of_range_and_hidden_characters_are_rejected_per_event(client, phone, mangle, reason):
    bad, good = mangle(f.opened()), f.opened()
    results = push(client, phone, [bad, good]).json()["results"]
    assert results[0]["status"] == "rejected" and results[0]["reason"].startswith(reason)
    assert results[1]["status"] == "stored"


def test_json_nested_too_deeply_is_a_400(client, phone):
    response = client.post("/api/v1/events", headers={**phone.headers, "content-type": "application/json"},
                           content='{"events": [' + "[" * 999 + "]" * 999 + "]}")
    assert (response.status_code, response.json()["detail"]) == (400, "body: JSON nested too deeply")
    response = client.post("/api/v1/enroll", headers={"content-type": "application/json"},
                           content='{"code": ' + "[" * 999 + "]" * 999 + "}")
    assert (response.status_code, response.json()["detail"]) == (400, "body: JSON nested too deeply")


def test_card_numbers_are_masked_in_every_string_of_an_event(client, phone):
    pan, masked = "4111111111111111", "411111******1111"
    events = [
        f.opened(code=pan),
        f.step(f.opened()["id"], step_id="x" + pan),
        f.maintenance(fields={pan: "kept", "field": "card " + pan}),
        {**f.checklist(), "recorded_by": "Li " + pan},
        f.opened(note="card 4111 1111", recorded_by="1111 1111 thanks"),  # split between two fields
    ]
    assert statuses(push(client, phone, events)) == ["stored"] * 5
    db = client.app.state.store.db
    bodies = " ".join(body for (body,) in db.execute("SELECT body FROM events"))
    assert pan not in bodies and "4111 1111" not in bodies.replace("4111 11**", "")
    assert db.execute("SELECT code FROM incidents WHERE code LIKE '4%'").fetchall() == [(masked,)]
    assert db.execute("SELECT step FROM incident_steps").fetchall() == [("x" + masked,)]


FIELDS = ["note", "terminal", "recorded_by", "split"]


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(example=card_in_text(), field=st.sampled_from(FIELDS))
def test_no_card_number_reaches_the_database_however_it_is_written(client, phone, tmp_path, example, field):
    """A card number in any form, in any field (or split between two), pushed over the API: the
    database files hold neither its digits nor the text it was written as."""
    text, card, positions = example
    written = text[positions[0]:positions[-1] + 1]
    event = f.opened(note="")
    if field == "split":  # the card number's first half ends one field, the rest starts another
        middle = positions[len(positions) // 2]
        event["payload"]["note"], event["recorded_by"] = text[:middle][-200:], text[middle:][:80] or "x"
    elif field == "recorded_by":
        event["recorded_by"] = text[:80]
    else:
        event["payload"][field] = text[:80]
    push(client, phone, [event])
    stored = stored_bytes(client)
    assert "".join(map(str, card)).encode() not in stored
    assert written.encode() not in stored
