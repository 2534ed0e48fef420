"""The database: WAL, migrations recorded, an old database upgraded in place, writes atomic."""

import pytest

from server.db import Store, connect, migrations


def test_new_database_is_migrated_and_in_wal(tmp_path):
    store = Store(tmp_path / "posaid.db")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    applied = [m.name for m in migrations.applied(store.db)]
    assert applied == [m.name for m in migrations._migrations]
    assert {"shops", "terminals", "staff"} <= set(store.db.table_names())


def test_old_database_upgrades_in_place(tmp_path):
    path = tmp_path / "old.db"
    db = connect(path)
    first = migrations._migrations[0].name
    migrations.apply(db, stop_before=[m.name for m in migrations._migrations[1:]] or None)
    db["shops"].insert({"name": "kept", "created_at": "2026-01-01"})
    db.close()
    store = Store(path)  # start-up applies whatever is pending, keeping the rows
    assert [m.name for m in migrations.applied(store.db)][0] == first
    assert migrations.pending(store.db) == []
    assert store.db.execute("SELECT name FROM shops").fetchall() == [("kept",)]


def test_a_failed_write_leaves_nothing(tmp_path):
    store = Store(tmp_path / "posaid.db")
    with pytest.raises(RuntimeError):
        with store.write() as db:
            db["shops"].insert({"name": "half", "created_at": "2026-01-01"})
            raise RuntimeError("crash mid-write")
    assert store.db.execute("SELECT count(*) FROM shops").fetchone()[0] == 0
