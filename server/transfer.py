"""Moving a head office: `posaid export-log` writes what cannot be derived (the register, people,
the immutable event log, the office's own records) and every photo into one tar archive;
`posaid import-log` reads it into an empty deployment of either kind (SQLite and a folder,
PostgreSQL and a bucket) and rebuilds the read views from the log through the ingest's own
code, batch by batch in the order the log was received, so the office shows the same numbers.

The archive streams both ways: rows as JSON lines a table at a time, photos file by file (their
sizes come from the blobs table), so neither side holds a table or a photo in memory whole.

Carried as rows: the tables listed in TABLES. Rebuilt: incidents, their steps, checklist runs,
maintenance and corrective actions (then the actions the office closed by hand are closed again,
with their note). Left behind: uploads in progress, partials, the attempt counters and sessions
(everyone signs in again), and a hub's forwarding state (a hub does not move this way).
"""

import io
import json
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from server import dialect
from server.store import Store
from sync.blobs import BlobStore, blob_key
from sync.errors import BadRequest
from sync.types import event_decoder
from sync.views import Views, iso

FORMAT = 1
BATCH = 500
# Parents before children (foreign keys); events go their own way (see _import_events).
TABLES = ["shops", "terminals", "staff", "devices", "tokens", "enroll_codes", "users", "user_regions", "audit_log",
          "blobs", "conflicts", "alert_rules", "alert_targets", "alerts", "deliveries", "delivery_tries",
          "alert_cursor", "feed_tokens"]
# Tables whose rows a fresh database already has from its migrations: replaced by the archive's.
PREFILLED = ["alert_cursor", "alert_rules"]
# Ids a table numbers itself: after explicit ids, PostgreSQL's counter moves past them.
IDENTITIES = {"shops": "id", "terminals": "id", "staff": "id", "users": "id", "audit_log": "id", "conflicts": "id",
              "alert_rules": "id", "alert_targets": "id", "alerts": "id", "deliveries": "id", "delivery_tries": "id",
              "feed_tokens": "id", "events": "seq"}
EVENT_COLUMNS = ["seq", "id", "type", "shop_id", "device", "pushed_by", "at", "recorded_by", "incident", "photos",
                 "body", "hash", "received_at"]


def _all(store: Store, sql: str) -> Iterator[tuple]:
    """Every row of a small table (the register, people, alerts), in one read."""
    with store.read() as db:
        yield from db.execute(sql).fetchall()


def _after(store: Store, sql: str, first, page: int = 5000) -> Iterator[tuple]:
    """Every row of a large one, a page at a time, each a short read: `sql` takes the last key
    seen (its first column, unique; `first` before any) and a limit."""
    after = first
    while True:
        with store.read() as db:
            rows = db.execute(sql, [after, page]).fetchall()
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1][0]


def _columns(store: Store, table: str) -> list[str]:
    with store.read() as db:
        return [column[0] for column in db.execute(f"SELECT * FROM {table} WHERE 1 = 0").description]


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), int(time.time())
    archive.addfile(info, io.BytesIO(data))


def _lines(rows: Iterator[tuple]) -> Iterator[bytes]:
    for row in rows:
        yield json.dumps(list(row), ensure_ascii=False).encode() + b"\n"


def _add_stream(archive: tarfile.TarFile, name: str, chunks: Iterator[bytes], spill: Path) -> int:
    """A member from a stream of unknown length: spooled to a temporary file first (tar needs the size)."""
    count = 0
    with tempfile.TemporaryFile(dir=spill) as file:
        for chunk in chunks:
            file.write(chunk)
            count += 1
        info = tarfile.TarInfo(name)
        info.size, info.mtime = file.tell(), int(time.time())
        file.seek(0)
        archive.addfile(info, file)
    return count


def export_log(store: Store, blobs: BlobStore, target, spill: Path) -> dict[str, int]:
    """Write the archive to `target` (a binary file); how many rows of each table and photos went."""
    counts: dict[str, int] = {}
    with tarfile.open(fileobj=target, mode="w|") as archive:
        tables = {**{table: _columns(store, table) for table in TABLES}, "events": EVENT_COLUMNS,
                  "office_closes": ["shop_id", "run", "item", "closed_by", "close_note", "closed_at"]}
        _add(archive, "posaid-log.json", json.dumps({"format": FORMAT, "tables": tables}).encode())
        for table in TABLES:
            columns = tables[table]
            counts[table] = _add_stream(archive, f"tables/{table}.jsonl", _lines(
                _all(store, f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(columns[:2])}")), spill)
        events = _after(store, f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE seq > ? "
                               "ORDER BY seq LIMIT ?", 0)
        counts["events"] = _add_stream(archive, "tables/events.jsonl", _lines(events), spill)
        with store.read() as db:
            closes = db.execute("SELECT shop_id, run, item, closed_by, close_note, closed_at FROM actions "
                                "WHERE closed_kind = 'office'").fetchall()
        counts["office_closes"] = _add_stream(archive, "tables/office_closes.jsonl", _lines(iter(closes)), spill)
        photos = 0
        for sha, size in _after(store, "SELECT sha256, max(size) FROM blobs WHERE sha256 > ? GROUP BY sha256 "
                                       "ORDER BY sha256 LIMIT ?", ""):
            try:
                with blobs.open(sha) as source:
                    info = tarfile.TarInfo(f"blobs/{blob_key(sha)}")
                    info.size, info.mtime = size, int(time.time())
                    archive.addfile(info, source)
                    photos += 1
            except FileNotFoundError:
                continue  # named in the table, gone from the store: nothing to carry
        counts["photos"] = photos
    return counts


def import_log(store: Store, blobs: BlobStore, source) -> dict[str, int]:
    """Read an archive from `source` (a binary file) into an empty deployment; how many rows and
    photos came in. Refused, with nothing written, when the target already holds shops."""
    with store.read() as db:
        if db.execute("SELECT count(*) FROM shops").fetchone()[0]:
            raise BadRequest("import-log: the target already holds shops; import into a new, empty deployment")
    counts: dict[str, int] = {}
    manifest = None
    with tarfile.open(fileobj=source, mode="r|") as archive:
        for member in archive:
            name = member.name
            data = archive.extractfile(member) if member.isfile() else None
            if data is None:
                continue
            if name == "posaid-log.json":
                manifest = json.load(data)
                if manifest.get("format") != FORMAT:
                    raise BadRequest(f"import-log: archive format {manifest.get('format')} is not {FORMAT}")
                continue
            if manifest is None:
                raise BadRequest("import-log: not a posaid log archive (posaid-log.json must come first)")
            if name.startswith("tables/") and name.endswith(".jsonl"):
                table = name[len("tables/"):-len(".jsonl")]
                if table not in manifest["tables"]:
                    raise BadRequest(f"import-log: {name} is not a table this archive lists")
                rows = (json.loads(line) for line in data)
                columns = manifest["tables"][table]
                if table == "events":
                    counts[table] = _import_events(store, rows)
                elif table == "office_closes":
                    counts[table] = _close_again(store, rows)
                else:
                    counts[table] = _import_table(store, table, columns, rows)
            elif name.startswith("blobs/"):
                sha = name[len("blobs/"):].replace("/", "")
                with tempfile.NamedTemporaryFile(dir=blobs.partials, delete=False) as file:
                    while chunk := data.read(1 << 20):
                        file.write(chunk)
                blobs.shelf.put_file(blob_key(sha), Path(file.name))
                counts["photos"] = counts.get("photos", 0) + 1
    if manifest is None:
        raise BadRequest("import-log: the archive is empty")
    with store.write() as db:
        dialect.refresh_statistics(db)  # the tables grew from nothing: plan by what they hold now
    return counts


def _chunks(rows, size: int = 1000) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _import_table(store: Store, table: str, columns: list[str], rows) -> int:
    count = 0
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    with store.write() as db:
        if table in PREFILLED:
            db.execute(f"DELETE FROM {table}")
        for chunk in _chunks(rows):
            db.conn.executemany(sql, chunk)
            count += len(chunk)
        if table in IDENTITIES:
            dialect.numbering_past(db, table, IDENTITIES[table])
    return count


def _import_events(store: Store, rows) -> int:
    """The log, in the order it was received, a shop's batch at a time through the ingest's views:
    each batch's views are built against the log before the batch joins it, as a push's are."""
    pending: dict[int, list] = {}
    count = 0

    def flush(shop_id: int) -> None:
        batch = pending.pop(shop_id)
        with store.write() as db:
            views = Views(shop_id)
            for row in batch:
                event = event_decoder.decode(row[10])
                views.add(event, iso(event.at), row[9])
            views.catch_up(db)
            db.conn.executemany(f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES "
                                f"({', '.join('?' * len(EVENT_COLUMNS))})", batch)
            views.write(db)

    for row in rows:
        shop_id = row[3]
        pending.setdefault(shop_id, []).append(row)
        count += 1
        if len(pending[shop_id]) == BATCH:
            flush(shop_id)
    for shop_id in list(pending):
        flush(shop_id)
    with store.write() as db:
        dialect.numbering_past(db, "events", "seq")
    return count


def _close_again(store: Store, rows) -> int:
    count = 0
    with store.write() as db:
        for shop_id, run, item, closed_by, note, closed_at in rows:
            count += db.execute(
                "UPDATE actions SET state = 'closed', closed_kind = 'office', closed_by = ?, close_note = ?, "
                "closed_at = ? WHERE shop_id = ? AND run = ? AND item = ?",
                [closed_by, note, closed_at, shop_id, run, item]).rowcount
    return count
