"""Ingest: each event stored once, duplicates and conflicts told apart, bad events rejected, views kept."""

import hashlib

import msgspec
import pytest

from server.store import Store, open_store
from server.writes import add_shop, record_blob
from sync.blobs import BlobInfo
from sync.errors import BadRequest, TooLarge
from sync.ingest import decode_push, ingest
from sync.types import MAX_BATCH, EventResult
from tests import factories as f
from tests.fixtures import table_rows

NOW = "2026-05-01T12:00:00+00:00"


@pytest.fixture
def store(tmp_path, database_where) -> Store:
    """A store on SQLite and one on PostgreSQL: each test runs on both."""
    store = open_store(tmp_path, database_where.get("database"))
    with store.write() as db:
        add_shop(db, "one", NOW)
        add_shop(db, "two", NOW)
    return store


def push(store: Store, events: list, shop: int = 1) -> list[EventResult]:
    raws = [msgspec.Raw(msgspec.json.encode(e)) for e in events]
    with store.write() as db:
        return ingest(db, shop, f.DEVICE, raws, NOW)


def statuses(results: list[EventResult]) -> list[str]:
    return [r.status for r in results]


def rows(store: Store, sql: str, params=()) -> list[tuple]:
    return store.db.execute(sql, params).fetchall()


def test_a_batch_pushed_three_times_is_stored_once(store):
    incident = f.opened()
    batch = [incident, f.step(incident["id"]), f.closed(incident["id"]), f.checklist(), f.maintenance()]
    assert statuses(push(store, batch)) == ["stored"] * 5
    assert statuses(push(store, batch)) == ["duplicate"] * 5
    assert statuses(push(store, batch)) == ["duplicate"] * 5
    assert rows(store, "SELECT count(*) FROM events") == [(5,)]
    assert rows(store, "SELECT steps_count, status FROM incidents") == [(1, "resolved")]


def test_the_stored_body_is_canonical_with_the_shop_filled_in(store):
    event = f.opened(at="2026-05-01T18:00:00.000+08:00")
    push(store, [event])
    body, digest, at = rows(store, "SELECT body, hash, at FROM events")[0]
    stored = msgspec.json.decode(body)
    assert stored["shop"] == 1
    assert stored["at"] == "2026-05-01T18:00:00+08:00"  # the device's offset is kept, in one spelling
    assert digest == hashlib.sha256(body.encode()).hexdigest()
    assert at == "2026-05-01T10:00:00+00:00"  # the column is UTC, so it sorts
    # the same event spelled differently is the same event
    respelled = {**event, "at": "2026-05-01T18:00:00+08:00", "shop": 1}
    assert statuses(push(store, [respelled])) == ["duplicate"]


def test_same_id_other_content_is_a_conflict_and_the_stored_event_is_kept(store):
    event = f.opened(note="first")
    push(store, [event])
    before = rows(store, "SELECT seq, body, hash FROM events")
    results = push(store, [{**event, "payload": {**event["payload"], "note": "changed"}}])
    assert (results[0].id, results[0].status) == (event["id"], "conflict")
    assert rows(store, "SELECT seq, body, hash FROM events") == before
    conflict = rows(store, "SELECT event_id, shop_id, body FROM conflicts")
    assert [(c[0], c[1], msgspec.json.decode(c[2])["payload"]["note"]) for c in conflict] == [(event["id"], 1, "changed")]


def test_within_one_batch_a_repeat_is_a_duplicate_and_a_change_a_conflict(store):
    event = f.opened()
    changed = {**event, "recorded_by": "someone else"}
    assert statuses(push(store, [event, event, changed])) == ["stored", "duplicate", "conflict"]
    assert rows(store, "SELECT count(*) FROM events") == [(1,)]


@pytest.mark.parametrize(("mangle", "reason"), [
    (lambda e: {**e, "type": "incident.deleted"}, "unknown event type 'incident.deleted'"),
    (lambda e: {**e, "at": 42}, "Expected `datetime`, got `int` - at `$.at`"),
    (lambda e: {**e, "payload": {**e["payload"], "code": ""}}, "Expected `str` matching regex"),
    (lambda e: {**e, "colour": "red"}, "Object contains unknown field `colour`"),
    (lambda e: {k: v for k, v in e.items() if k != "recorded_by"}, "Object missing required field `recorded_by`"),
    (lambda e: {**e, "shop": 2}, "shop: the event belongs to shop 2"),
])
def test_a_bad_event_is_rejected_with_its_reason_and_the_rest_stored(store, mangle, reason):
    bad, good = mangle(f.opened()), f.opened()
    results = push(store, [bad, good])
    assert (results[0].id, results[0].status) == (bad["id"], "rejected")
    assert results[0].reason.startswith(reason)
    assert results[1].status == "stored"
    assert rows(store, "SELECT id FROM events") == [(good["id"],)]


def test_an_event_that_is_not_an_object_has_no_id(store):
    raws = [msgspec.Raw(b"42"), msgspec.Raw(b'{"id": 7}')]
    with store.write() as db:
        results = ingest(db, 1, f.DEVICE, raws, NOW)
    assert [(r.id, r.status) for r in results] == [(None, "rejected"), (None, "rejected")]
    assert rows(store, "SELECT count(*) FROM events") == [(0,)]


def test_an_event_naming_blobs_not_held_is_rejected_with_their_names(store):
    photo, other = "a" * 64, "b" * 64
    event = f.opened(blobs=[photo])
    run = f.checklist(photo=other)
    results = push(store, [event, run])
    assert [(r.status, r.missing) for r in results] == [("rejected", [photo]), ("rejected", [other])]
    with store.write() as db:
        record_blob(db, BlobInfo(photo, 10, "image/jpeg"), 1, NOW)
        record_blob(db, BlobInfo(other, 10, "image/jpeg"), 2, NOW)  # another shop's copy does not count
    assert [(r.status, r.missing) for r in push(store, [event, run])] == [("stored", []), ("rejected", [other])]
    assert rows(store, "SELECT photos_count FROM incidents") == [(1,)]


def test_card_numbers_are_masked_before_storing_and_hashing(store):
    event = f.opened(note="customer card 4111 1111 1111 1111 swallowed, order 4111111111111112")
    push(store, [event])
    (body,) = rows(store, "SELECT body FROM events")[0]
    assert "4111 11** **** 1111" in body and "4111111111111112" in body and "4111 1111 1111 1111" not in body
    assert rows(store, "SELECT note FROM incidents")[0][0].startswith("customer card 4111 11** **** 1111")
    masked_by_phone = {**event, "payload": {**event["payload"], "note": msgspec.json.decode(body)["payload"]["note"]}}
    assert statuses(push(store, [event, masked_by_phone])) == ["duplicate", "duplicate"]


def test_card_numbers_in_checklist_notes_and_maintenance_fields_are_masked(store):
    push(store, [f.checklist(note="test card 5555555555554444"), f.maintenance(fields={"what": "4111111111111111"})])
    bodies = " ".join(b for (b,) in rows(store, "SELECT body FROM events"))
    assert "5555555555554444" not in bodies and "555555******4444" in bodies
    assert "4111111111111111" not in bodies
    assert rows(store, "SELECT fields FROM maintenance") == [('{"what":"411111******1111"}',)]


def test_incident_view_follows_its_events(store):
    incident = f.opened(code="T2")
    iid = incident["id"]
    push(store, [incident, f.step(iid, "power"), f.step(iid, "network", at="2026-05-01T10:03:00Z")])
    with store.write() as db:
        record_blob(db, BlobInfo("c" * 64, 10, "image/jpeg"), 1, NOW)
    push(store, [f.noted(iid, blobs=["c" * 64]), f.closed(iid, "escalated", "network", at="2026-05-01T10:09:00Z")])
    [view] = table_rows(store.db, "incidents")
    assert view["shop_id"] == 1 and view["code"] == "T2" and view["opened_at"] == "2026-05-01T09:58:00+00:00"
    assert (view["status"], view["escalated_at_step"], view["resolved_at_step"], view["support"]) == (
        "escalated", "network", None, "acquirer")
    assert (view["steps_count"], view["photos_count"]) == (2, 1)
    assert view["closed_at"] == view["last_event_at"] == "2026-05-01T10:09:00+00:00"
    assert rows(store, "SELECT step, answer FROM incident_steps ORDER BY at") == [("power", "not_fixed"), ("network", "not_fixed")]


def test_children_pushed_before_their_incident_are_counted_when_it_arrives(store):
    incident = f.opened()
    iid = incident["id"]
    early = [f.step(iid), f.closed(iid, "resolved", "power", at="2026-05-01T10:20:00Z")]
    push(store, early)
    assert rows(store, "SELECT count(*) FROM incidents") == [(0,)]
    later_close = f.closed(iid, "escalated", "power", at="2026-05-01T10:10:00Z")  # older than the first close
    push(store, [incident, f.step(iid, "network"), later_close])
    assert rows(store, "SELECT steps_count, status, resolved_at_step, closed_at FROM incidents") == [
        (2, "resolved", "power", "2026-05-01T10:20:00+00:00")]


def test_an_incident_of_another_shop_is_not_touched(store):
    incident = f.opened()
    push(store, [incident], shop=2)
    push(store, [f.closed(incident["id"])], shop=1)
    assert rows(store, "SELECT shop_id, status FROM incidents") == [(2, "open")]


def test_checklist_runs_and_maintenance_views(store):
    push(store, [f.checklist(results=("ok", "problem", "problem", "na")), f.maintenance()])
    assert rows(store, "SELECT checklist, period, items_count, problems_count, signed_by FROM checklist_runs") == [
        ("daily", "2026-05-01", 4, 2, "店长 Wang")]
    assert rows(store, "SELECT terminal, kind, done_at, fields FROM maintenance") == [
        ("收银台 1 Till 1", "software-update", "2026-05-01T18:00:00+00:00",
         '{"version-before":"2.4.0","version-after":"2.4.1"}')]


def test_decode_push():
    assert decode_push(b'{"events": [{"a": 1}, 2]}') == [msgspec.Raw(b'{"a": 1}'), msgspec.Raw(b"2")]


@pytest.mark.parametrize(("body", "error", "message"), [
    (b'{"events": [', BadRequest, "body is not valid JSON: "),
    (b'{"events": {}}', BadRequest, "body: Expected `array`, got `object` - at `$.events`"),
    (b'{"event": []}', BadRequest, "body: Object contains unknown field `event`"),
    (b"[]", BadRequest, "body: Expected `object`, got `array`"),
    (b'{"events": [' + b",".join([b"{}"] * (MAX_BATCH + 1)) + b"]}", TooLarge,
     f"events: {MAX_BATCH + 1} events in one push; the limit is {MAX_BATCH}"),
])
def test_a_bad_push_body_names_the_problem(body, error, message):
    with pytest.raises(error) as raised:
        decode_push(body)
    assert str(raised.value).startswith(message)


TRANSACTION = {"amount": "128.50", "kind": "sale", "entry": "contactless", "rrn": "123456789012",
               "trace": "000123", "batch": "000045", "auth_code": "A1B2C3", "charged": "yes", "card_last4": "1111"}


def test_a_transaction_is_kept_whole_and_its_references_stay_readable(store):
    """An RRN (12 digits) beside a trace and a batch number looks like no card number: nothing masked."""
    incident = f.opened(v=2, note="RRN 123456789012 trace 000123")
    incident["payload"]["transaction"] = TRANSACTION
    assert statuses(push(store, [incident])) == ["stored"]
    [row] = table_rows(store.db, "incidents")
    assert (row["tx_kind"], row["tx_entry"], row["tx_charged"], row["tx_amount"], row["tx_currency"]) == (
        "sale", "contactless", "yes", 128.5, "CNY")
    assert msgspec.json.decode(row["tx"]) == TRANSACTION  # the default currency (CNY) goes unsaid
    assert row["note"] == "RRN 123456789012 trace 000123"


def test_the_latest_transaction_told_decides(store):
    incident = f.opened()
    later = f.event("incident.transaction", {"incident": incident["id"], "transaction": {"charged": "no"}},
                    at="2026-05-01T10:09:00Z", v=2)
    earlier = f.event("incident.transaction", {"incident": incident["id"], "transaction": {"charged": "yes"}},
                      at="2026-05-01T10:05:00Z", v=2)
    assert statuses(push(store, [incident, later, earlier])) == ["stored"] * 3
    assert rows(store, "SELECT tx_charged, tx_by FROM incidents") == [("no", later["id"])]


@pytest.mark.parametrize(("event", "reason"), [
    (lambda: {**f.opened(), "v": 3, "colour": "red"}, "v: format 3 is newer than this server accepts (1 to 2)"),
    (lambda: {**f.opened(), "v": 3}, "v: format 3 is newer than this server accepts (1 to 2)"),
    (lambda: f.event("incident.transaction", {"incident": f.opened()["id"], "transaction": {}}),
     "v: the event holds what format 2 added but says it is format 1"),
])
def test_an_event_in_a_format_the_server_does_not_take_is_refused_naming_it(store, event, reason):
    results = push(store, [event()])
    assert results[0].status == "rejected" and results[0].reason.startswith(reason)


def test_a_server_held_to_format_1_refuses_format_2_and_says_the_device_keeps_it(store):
    incident = {**f.opened(), "v": 2}
    incident["payload"]["transaction"] = {"charged": "unknown"}
    raws = [msgspec.Raw(msgspec.json.encode(incident)), msgspec.Raw(msgspec.json.encode(f.opened()))]
    with store.write() as db:
        results = ingest(db, 1, f.DEVICE, raws, NOW, newest=1)
    assert [r.status for r in results] == ["rejected", "stored"]
    assert results[0].reason == ("v: format 2 is newer than this server accepts (1 to 1); the device keeps the "
                                 "event and sends it once the server is upgraded")


def test_an_event_stored_before_a_format_change_is_a_duplicate_of_its_replay(store):
    """Bodies stored by an older version lack the fields added since; a replay is the same event."""
    event = f.opened(note="kept from before")
    push(store, [event])
    with store.write() as db:
        (body,) = db.execute("SELECT body FROM events").fetchone()
        old = msgspec.json.decode(body)
        del old["v"], old["payload"]["transaction"]
        old_body = msgspec.json.encode(old).decode()
        db.execute("UPDATE events SET body = ?, hash = ?", [old_body, hashlib.sha256(old_body.encode()).hexdigest()])
    assert statuses(push(store, [event])) == ["duplicate"]
    assert statuses(push(store, [{**event, "recorded_by": "someone else"}])) == ["conflict"]
