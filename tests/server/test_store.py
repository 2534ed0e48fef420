"""The database: WAL, migrations recorded, an old database upgraded in place, writes atomic,
readers beside the writer, a database locked by another process answered as busy."""

import sqlite3

import msgspec
import pytest

from server import writes
from server.schema import migrations
from server.store import Store, connect
from sync.errors import Unavailable
from tests import factories as f

NOW = "2026-05-01T12:00:00+00:00"


def all_migrations() -> list[str]:
    """Every migration's name, in order, as a new database applies them."""
    db = connect(":memory:")
    migrations.apply(db)
    return [m.name for m in migrations.applied(db)]


def test_new_database_is_migrated_and_in_wal(tmp_path):
    store = Store(tmp_path / "posaid.db")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [m.name for m in migrations.applied(store.db)] == all_migrations()
    assert {"shops", "terminals", "staff", "events", "incident_steps", "uploads"} <= set(store.db.table_names())


def test_old_database_upgrades_in_place(tmp_path):
    path = tmp_path / "old.db"
    db = connect(path)
    first, *later = all_migrations()
    migrations.apply(db, stop_before=later)
    db.execute("INSERT INTO shops (name, created_at) VALUES ('kept', '2026-01-01')")
    db.close()
    store = Store(path)  # start-up applies whatever is pending, keeping the rows
    assert [m.name for m in migrations.applied(store.db)] == [first, *later]
    assert migrations.pending(store.db) == []
    assert store.db.execute("SELECT name FROM shops").fetchall() == [("kept",)]


def test_steps_and_deciding_closes_are_filled_in_from_an_old_log(tmp_path):
    """m004 turns the log's steps into rows and records which close decided each incident."""
    path = tmp_path / "old.db"
    db = connect(path)
    migrations.apply(db, stop_before=["m004_steps_closes_uploads"])
    db.execute("INSERT INTO shops (id, name, created_at) VALUES (1, 'old shop', ?)", [NOW])
    incident = f.opened(shop=1)
    later = f.closed(incident["id"], "escalated", "network", at="2026-05-01T10:09:00Z", shop=1)
    events = [incident, f.step(incident["id"], "power", shop=1), f.closed(incident["id"], shop=1), later]
    for seq, event in enumerate(events, start=1):
        db.execute(
            "INSERT INTO events (seq, id, type, shop_id, device, pushed_by, at, recorded_by, incident, photos, body, "
            "hash, received_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, 0, ?, '', ?)",
            [seq, event["id"], event["type"], f.DEVICE, f.DEVICE, event["at"], event["recorded_by"],
             event["payload"].get("incident", event["id"]), msgspec.json.encode(event).decode(), NOW])
    db.execute(
        "INSERT INTO incidents (id, shop_id, device, code, terminal, opened_at, note, recorded_by, status, closed_at, "
        "resolved_at_step, steps_count, photos_count, last_event_at) VALUES (?, 1, ?, 'T2', 'Till', ?, '', 'Li', "
        "'resolved', ?, 'power', 1, 0, ?)", [incident["id"], f.DEVICE, NOW, NOW, NOW])
    db.close()
    store = Store(path)
    assert store.db.execute("SELECT step, answer FROM incident_steps").fetchall() == [("power", "not_fixed")]
    assert store.db.execute("SELECT status, escalated_at_step, closed_by FROM incidents").fetchall() == [
        ("escalated", "network", later["id"])]


def test_a_failed_write_leaves_nothing(tmp_path):
    store = Store(tmp_path / "posaid.db")
    with pytest.raises(RuntimeError):
        with store.write() as db:
            writes.add_shop(db, "half", NOW)
            raise RuntimeError("crash mid-write")
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM shops").fetchone() == (0,)


def test_a_reader_sees_the_last_commit_while_a_write_is_under_way(tmp_path):
    store = Store(tmp_path / "posaid.db")
    with store.write() as db:
        writes.add_shop(db, "committed", NOW)
    with store.write() as db:
        writes.add_shop(db, "not yet", NOW)
        with store.read() as reader:  # does not wait for the write, and does not see it
            assert reader.execute("SELECT name FROM shops").fetchall() == [("committed",)]


def test_a_reader_cannot_write(tmp_path):
    store = Store(tmp_path / "posaid.db")
    with store.read() as db, pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("INSERT INTO shops (name, created_at) VALUES ('sneaky', '')")


def test_a_database_another_process_holds_is_busy_not_an_error(tmp_path):
    store = Store(tmp_path / "posaid.db", busy_timeout_ms=50)
    other = sqlite3.connect(tmp_path / "posaid.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Unavailable) as busy:
            with store.write() as db:
                writes.add_shop(db, "waits", NOW)
        assert (busy.value.status, busy.value.headers) == (503, {"Retry-After": "1"})
    finally:
        other.execute("ROLLBACK")
    with store.write() as db:  # free again
        writes.add_shop(db, "goes in", NOW)
