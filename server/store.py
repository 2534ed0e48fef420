"""The database: SQLite in WAL mode, migrated at start-up, with one writer and readers beside it.

Every write goes through `Store.write()`: one connection behind a lock, one BEGIN IMMEDIATE …
COMMIT per call (Datasette's model: with SQLite, one writer is the honest one). Reads go through
`Store.read()`: each thread has its own read-only connection, and WAL lets those read beside the
writer, so a page or a token check never queues behind a push being ingested.
"""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from server.schema import migrations
from sync.errors import Unavailable


def now() -> str:
    """The time to record, as UTC text that sorts (the form every *_at column holds)."""
    return datetime.now(UTC).isoformat()


PRAGMAS = (
    "journal_mode = WAL",
    # FULL: a commit returns once the WAL is on disk, so nothing is answered "stored" that a power
    # cut could still take back (NORMAL syncs only at checkpoints).
    "synchronous = FULL",
    "foreign_keys = ON",
    # A push writes the log and the views: a 16 MB page cache keeps their hot index pages, and
    # checkpointing every 16 MB of WAL instead of 4 MB means a quarter of the fsyncs.
    "cache_size = -16384",
    "wal_autocheckpoint = 4096",
)
BUSY_TIMEOUT_MS = 5000
READER_CACHE_KB = 2048


def connect(path: Path | str, busy_timeout_ms: int = BUSY_TIMEOUT_MS, readonly: bool = False) -> Database:
    """Open (or create) the database file with the pragmas every connection needs."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    for pragma in PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
        # One reader per worker thread (up to 40): a small cache each, or idle memory grows with
        # the threads; the operating system's page cache serves them all.
        conn.execute(f"PRAGMA cache_size = -{READER_CACHE_KB}")
    db = Database(conn)
    db.engine = "sqlite"  # server/dialect.py asks
    return db


def _owner_only(path: Path) -> None:
    """The database holds a hub's upstream token and everyone's records: readable by its owner
    only (SQLite gives its -wal and -shm files the database file's mode)."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class Store:
    """The database file: `write()` for the one write path, `read()` for a consistent read."""

    def __init__(self, path: Path | str, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        _owner_only(self.path)
        self.db = connect(self.path, busy_timeout_ms)  # the writer
        self._lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[Database] = []
        self._readers_lock = threading.Lock()
        with self._lock:
            migrations.apply(self.db)

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[Database]:
        """A transaction (BEGIN IMMEDIATE … COMMIT) that no other write interleaves with.

        `durable=False` is for bookkeeping a crash may lose (an upload's claim, its last sign of
        life): its commit does not wait for the disk (WAL with synchronous NORMAL: never corrupt,
        only perhaps forgotten) and costs no fsync; the next durable commit carries it to disk.
        A database another process keeps locked past the busy timeout is Unavailable (503).
        """
        with self._lock:
            if self.db.conn.in_transaction:  # nested: a savepoint inside the outer write
                with self.db.atomic():
                    yield self.db
                return
            if not durable:
                self.db.execute("PRAGMA synchronous = NORMAL")
            try:
                yield from self._transaction()
            finally:
                if not durable:
                    self.db.execute("PRAGMA synchronous = FULL")

    def _transaction(self) -> Iterator[Database]:
        try:
            # IMMEDIATE takes the write lock up front, so another process (the CLI beside a
            # running server) waits on busy_timeout instead of failing half-way.
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise Unavailable("the database is busy; try again in a moment") from exc
            raise
        try:
            yield self.db
        except sqlite3.OperationalError as exc:
            self.db.conn.rollback()
            if _busy(exc):
                raise Unavailable("the database is busy; try again in a moment") from exc
            raise
        except BaseException:
            self.db.conn.rollback()
            raise
        self.db.conn.commit()

    @contextmanager
    def read(self) -> Iterator[Database]:
        """This thread's read-only connection, in one read transaction: no write seen half-way."""
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = connect(self.path, self.busy_timeout_ms, readonly=True)
            with self._readers_lock:
                self._readers.append(reader)
        if reader.conn.in_transaction:  # nested read: already inside one snapshot
            yield reader
            return
        reader.execute("BEGIN")
        try:
            yield reader
        finally:
            reader.conn.rollback()

    engine = "sqlite"

    def __deepcopy__(self, memo) -> "Store":
        # A resource, shared rather than copied: Litestar deep-copies the routers it registers,
        # and with them the auth middleware's reference to the store.
        return self

    def close(self) -> None:
        """Close the writer and every reader (at shutdown)."""
        with self._readers_lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
        self.db.close()


class SideFile:
    """A few small tables kept apart from the main write path (sessions, attempt counters): a SQLite
    file of their own beside the database, written without syncing (a crash may lose a sign-in or
    forgive a few attempts, nothing more), so they never queue for the write lock pushes need."""

    engine = "sqlite"

    def __init__(self, path: Path | str):
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = OFF", "busy_timeout = 5000"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._lock = threading.Lock()

    def run(self, sql: str, params=()) -> list[tuple]:
        """One statement on its own (autocommit); its rows."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        self._conn.close()


def side_tables(data: Path | str, name: str, store) -> "SideFile":
    """Where small tables go: data/<name>.db with SQLite; the main database with PostgreSQL, so that
    every app server shares them."""
    if store.engine == "postgresql":
        from server.postgres import Side

        return Side(store)
    return SideFile(Path(data) / f"{name}.db")


def open_store(data: Path | str, database: str | None = None, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
    """The database the settings name: the SQLite file in the data folder, or PostgreSQL (a URL)."""
    if database:
        try:
            from server.postgres import Store as PostgresStore
        except ImportError:
            from sync.errors import BadRequest

            raise BadRequest("--database: PostgreSQL needs psycopg: pip install 'posaid[postgres]'") from None
        return PostgresStore(database, busy_timeout_ms)
    return Store(Path(data) / "posaid.db", busy_timeout_ms)
