"""The database: opened in WAL mode, migrated at start-up, written through one place."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("posaid")


@migrations()
def m001_shops(db: Database) -> None:
    """Shops, their terminals and staff: what a device's pull returns and the dashboard groups by."""
    db["shops"].create({"id": int, "name": str, "created_at": str}, pk="id", not_null={"name"})
    db["terminals"].create(
        {"id": int, "shop_id": int, "name": str, "model": str, "serial": str},
        pk="id",
        foreign_keys=[("shop_id", "shops", "id")],
        not_null={"shop_id", "name"},
    )
    db["staff"].create(
        {"id": int, "shop_id": int, "name": str},
        pk="id",
        foreign_keys=[("shop_id", "shops", "id")],
        not_null={"shop_id", "name"},
    )


def connect(path: Path | str) -> Database:
    """Open (or create) the database file with the pragmas every connection needs."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return Database(conn)


class Store:
    """The one database connection and the one write path: every write goes through `write()`."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.db = connect(self.path)
        self._lock = threading.RLock()
        with self._lock:
            migrations.apply(self.db)

    @contextmanager
    def write(self) -> Iterator[Database]:
        """A transaction (BEGIN IMMEDIATE … COMMIT) that no other write interleaves with."""
        with self._lock:
            if self.db.conn.in_transaction:  # nested: a savepoint inside the outer write
                with self.db.atomic():
                    yield self.db
                return
            # IMMEDIATE takes the write lock up front, so another process (the CLI beside a
            # running server) waits on busy_timeout instead of failing half-way.
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.conn.rollback()
                raise
            self.db.conn.commit()

    @contextmanager
    def read(self) -> Iterator[Database]:
        """The connection for reads; held so a read never sees a write half-way."""
        with self._lock:
            yield self.db

    def close(self) -> None:
        self.db.close()
