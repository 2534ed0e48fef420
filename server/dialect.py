"""The statements that differ between SQLite and PostgreSQL, side by side; everything else is
written once in the subset both take (server/postgres.py turns the parameters).

`db.engine` says which a connection is ("sqlite" on server.store's, "postgresql" on
server.postgres's)."""

SHOP, ALERTS = 1, 2  # the kinds of advisory lock: one shop's pushes; the alert rules' pass


def engine(db) -> str:
    return getattr(db, "engine", "sqlite")


def serialise(db, kind: int, key: int = 0) -> None:
    """Inside a write transaction, wait for any other app server's transaction of the same kind and
    key to end. SQLite needs nothing: BEGIN IMMEDIATE lets one writer in at a time. PostgreSQL lets
    writers run together, so two servers taking one shop's pushes, or judging the same new records
    for alerts, take turns on a transaction-scoped advisory lock."""
    if engine(db) == "postgresql":
        db.execute("SELECT pg_advisory_xact_lock(?, ?)", [kind, key])


def seconds_between(db_engine: str, later: str, earlier: str) -> str:
    """SQL for the seconds from one ISO-8601 text column to another."""
    if db_engine == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later}::timestamptz - {earlier}::timestamptz))"
    return f"(julianday({later}) - julianday({earlier})) * 86400"


def numbering_past(db, table: str, column: str) -> None:
    """After rows went in with their ids given (an import), new rows are numbered after them.
    SQLite numbers from the largest rowid by itself; PostgreSQL's identity keeps its own counter."""
    if engine(db) == "postgresql":
        db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                   f"coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)")


def refresh_statistics(db) -> None:
    """After a bulk load, PostgreSQL's planner needs fresh statistics (autovacuum would gather them
    within a minute); SQLite's plans here do not rest on statistics (the queries say what to use)."""
    if engine(db) == "postgresql":
        db.execute("ANALYZE")
