"""Exports, streamed: CSV, XLSX and a ZIP of photos, with memory that does not grow with the rows.

Rows come a page at a time through the same keyset queries the list pages use (one short read
transaction per page, so a long download never holds a snapshot open, on a connection of the
download's own: see PageReader), and each page is written out before the next is read. Litestar runs a synchronous iterator's steps in worker threads, so
the database is never read on the event loop.

- CSV: UTF-8 with a BOM (so spreadsheet programs read Chinese right), and every text cell that a
  spreadsheet would take for a formula (starting with = + - @, a tab or a carriage return) gets a
  leading apostrophe (OWASP's advice against formula injection).
- XLSX: XlsxWriter in constant-memory mode, one sheet per kind of row, every text cell written as
  text (never as a formula or a link). XlsxWriter builds the file on disk and the finished file is
  streamed; memory stays flat either way.
- ZIP: the photos, stored (a JPEG does not compress), one file at a time; the ZIP needs no seek,
  so it streams as it is made.
"""

import csv
import io
import secrets
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import xlsxwriter

from server.queries import Cursor
from server.store import connect
from sync.blobs import BlobStore

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

Row = list[str | int | None]
PAGE = 1000  # rows read per transaction


class PageReader:
    """The reads of one download: a read-only connection of its own with a small page cache, used
    by one page at a time (from whichever worker thread runs the stream's next step), in one short
    transaction a page. The per-thread readers of Store.read would each grow their 16 MB cache as a
    download walks a whole table, a few threads at a time: measured, +32 MB for 200,000 incidents."""

    CACHE_KB = 2048

    def __init__(self, store):
        self.store, self.db = store, None
        self.path, self.busy_timeout_ms = store.path, store.busy_timeout_ms

    @contextmanager
    def __call__(self):
        if self.store.engine != "sqlite":  # PostgreSQL: a pooled connection a page (no cache to grow)
            with self.store.read() as db:
                yield db
            return
        if self.db is None:
            self.db = connect(self.path, self.busy_timeout_ms, readonly=True)
            self.db.execute(f"PRAGMA cache_size = -{self.CACHE_KB}")
        self.db.execute("BEGIN")
        try:
            yield self.db
        finally:
            self.db.conn.rollback()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def keyset_pages(read: PageReader, fetch, at: str, size: int = PAGE) -> Iterator[list]:
    """Every row a keyset query gives, a page at a time: `read()` opens a page's transaction,
    `fetch(db, after, limit)` reads a page after a queries.Cursor, `at` names the rows' time
    attribute. The reader is closed at the end, or when the client goes away."""
    after: Cursor | None = None
    try:
        while True:
            with read() as db:
                rows = fetch(db, after, size)
            if rows:
                yield rows
            if len(rows) < size:
                return
            last = rows[-1]
            after = Cursor(at=getattr(last, at), id=last.id, shop=last.shop_id)
    finally:
        read.close()


def neutralised(value):
    """A cell as a spreadsheet may safely read it: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_stream(header: list[str], pages: Iterable[list[Row]]) -> Iterator[bytes]:
    """The CSV's bytes, a page of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    for rows in pages:
        writer.writerows([neutralised(cell) for cell in row] for row in rows)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


class Sheet:
    """One sheet of a workbook: its name, header, and where its rows come from as pages are read."""

    def __init__(self, name: str, header: list[str], widths: list[int] | None = None):
        self.name, self.header, self.widths = name, header, widths or []


def xlsx_file(folder: Path, sheets: list[Sheet], pages: Iterable[list[list[Row]]]) -> Path:
    """Write a workbook (each item of `pages` holds a list of rows per sheet) to a file in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    name = str(folder / f"export-{secrets.token_hex(8)}.xlsx")
    workbook = xlsxwriter.Workbook(name, {"constant_memory": True, "tmpdir": str(folder),
                                          "strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False})
    try:
        bold = workbook.add_format({"bold": True})
        worksheets = []
        for sheet in sheets:
            worksheet = workbook.add_worksheet(sheet.name)
            worksheet.write_row(0, 0, sheet.header, bold)
            for column, width in enumerate(sheet.widths):
                worksheet.set_column(column, column, width)
            worksheet.freeze_panes(1, 0)
            worksheets.append([worksheet, 1])
        for page in pages:
            for slot, rows in zip(worksheets, page, strict=True):
                worksheet, row_number = slot
                for row in rows:
                    for column, value in enumerate(row):
                        if isinstance(value, str):
                            worksheet.write_string(row_number, column, value)
                        elif value is not None:
                            worksheet.write_number(row_number, column, value)
                    row_number += 1
                slot[1] = row_number
    finally:
        workbook.close()
    return Path(name)


def file_stream(path: Path) -> Iterator[bytes]:
    """A file's bytes in chunks, deleted once sent (or when the client goes away)."""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
    finally:
        path.unlink(missing_ok=True)


class _Sink:
    """Where zipfile writes: bytes collected until the stream takes them (no seek, no tell)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def zip_stream(files: Iterable[tuple[str, str]], blobs: BlobStore) -> Iterator[bytes]:
    """A ZIP of (name in the archive without its extension, blob sha256) pairs, streamed blob by
    blob; each file's extension comes from its bytes, and a blob not held is left out."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for stem, sha in files:
            data = blobs.read(sha)
            if data is None:
                continue
            archive.writestr(f"{stem}.{EXTENSIONS.get(sniff(data[:16]), 'bin')}", data)
            del data
            yield sink.take()
    yield sink.take()


def sniff(head: bytes) -> str:
    """An image's media type from its first bytes (never from a name)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"

