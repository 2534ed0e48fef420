"""The hub: a server in the shop that forwards its phones' records to head office by itself.

sync/forward.py speaks the protocol; this module gives it the hub's database through the store
(`HubLog`), runs it inside `posaid serve --role hub` (`Forwarder`: a round when phones push and on
a timer, backing off with jitter while head office is unreachable, carrying on after any crash),
and brings down from head office what the shop's phones read: the shop's register (its support
lines, terminals, staff) and the content, when head office has a newer version.
"""

import logging
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import msgspec

from content.load import ContentError, load
from server import queries, writes
from server.background import Background
from server.store import Store, now
from sync import forward
from sync.errors import UpstreamError
from sync.types import ContentFiles, PullResponse

log = logging.getLogger("posaid.hub")
MAX_BACKOFF_SECONDS = 300
_content_decoder = msgspec.json.Decoder(ContentFiles)


class HubLog:
    """The hub's event log and upstream cursor, for `sync.forward.forward`."""

    def __init__(self, store: Store):
        self.store = store

    def upstream(self) -> tuple[str, str, int] | None:
        with self.store.read() as db:
            found = queries.upstream(db)
        return (found.url, found.token, found.cursor) if found else None

    def events_after(self, cursor: int, limit: int) -> list[tuple[int, str]]:
        with self.store.read() as db:
            return queries.events_after(db, cursor, limit)

    def remaining(self, cursor: int) -> int:
        with self.store.read() as db:
            return queries.events_count_after(db, cursor)

    def advance(self, cursor: int, refused: list[tuple[int, str, str]], photos: list[str],
                waiting: list[tuple[int, str, int]]) -> None:
        at = now()
        with self.store.write() as db:
            writes.advance_upstream(db, cursor, at)
            writes.add_forward_refusals(db, refused, at)
            writes.add_forwarded_blobs(db, photos, at)
            writes.hold_back(db, waiting, at)

    def waiting(self, formats: list[int], limit: int) -> list[tuple[int, str]]:
        with self.store.read() as db:
            return queries.held_back(db, formats, limit)

    def sent(self, seqs: list[int], refused: list[tuple[int, str, str]], photos: list[str]) -> None:
        at = now()
        with self.store.write() as db:
            writes.release_held_back(db, seqs)
            writes.add_forward_refusals(db, refused, at)
            writes.add_forwarded_blobs(db, photos, at)


def enroll_upstream(store: Store, url: str, code: str, name: str, shop: int | None = None):
    """Enroll this hub with head office at url with a one-time hub code, for one of its shops
    (the only one if not given): forwarding starts from the first event."""
    with store.read() as db:
        shops = queries.shops(db)
    if shop is None and len(shops) > 1:
        raise UpstreamError("--shop: this hub has several shops; say which one head office's code is for")
    answer = forward.enroll(url, code, name)
    with store.write() as db:
        local = shop if shop is not None else shops[0].id if shops else writes.add_shop(db, answer.shop.name, now())
        writes.set_upstream(db, url, answer.device, answer.token, local, now())
    return answer


def bring_down_register(store: Store, pulled: PullResponse) -> None:
    """Make the hub's shop what head office's register says: its name and lines, terminals, staff."""
    with store.write() as db:
        link = queries.upstream(db)
        if link is None or link.local_shop is None:
            return
        writes.replace_register(db, link.local_shop, pulled.shop, pulled.terminals, pulled.staff)


def bring_down_content(upstream: forward.Upstream, content_dir: Path) -> str:
    """Fetch head office's content into content_dir (checked whole before it replaces the old); its version."""
    status, _, data = upstream.request("GET", "/content")
    if status != 200:
        raise UpstreamError(f"upstream: content refused ({status})")
    files = _content_decoder.decode(data)
    staging = content_dir.with_name(content_dir.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    for name, text in files.files.items():
        path = (staging / name).resolve()
        if staging.resolve() not in path.parents:
            raise UpstreamError(f"upstream: content file {name!r} points outside the content folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    try:
        library = load(staging)
    except ContentError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise UpstreamError(f"upstream: head office's content does not check ({exc.problems[0]})") from None
    old = content_dir.with_name(content_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if content_dir.exists():
        content_dir.rename(old)
    staging.rename(content_dir)
    shutil.rmtree(old, ignore_errors=True)
    return library.version


class Forwarder(Background):
    """`posaid serve --role hub`'s own forwarder, in a thread of its own; phones' pushes wake it."""

    thread_name = "posaid-forwarder"

    def __init__(self, store: Store, blob_root: Path, content_dir: Path, content_version: str,
                 on_new_content: Callable[[], None], timeout: float = forward.TIMEOUT_SECONDS,
                 every: float = 30, retry: float = 5):
        super().__init__(stop_wait=timeout + 5)
        self.store, self.blob_root, self.content_dir = store, blob_root, content_dir
        self.content_version, self.on_new_content, self.timeout = content_version, on_new_content, timeout
        self.every, self.retry = every, retry
        self.log = HubLog(store)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            before = self.log.upstream()
            try:
                self.round()
                failures, delay = 0, self.every
            except Exception as exc:  # any failure, a crash included, is recorded and tried again later
                # A round that moved the cursor before it broke made progress: the link works now
                # and then, so try again soon rather than backing off as if it never did.
                failures = 1 if before and self.log.upstream()[2] > before[2] else failures + 1
                if not isinstance(exc, UpstreamError):
                    log.exception("forwarder round failed")
                self._record_error(str(exc))
                # Backoff with jitter, so a chain's hubs do not all come back at the same moment.
                delay = min(MAX_BACKOFF_SECONDS, self.retry * 2 ** (failures - 1)) * random.uniform(0.5, 1.5)
            self._wake.wait(delay)
            self._wake.clear()

    def round(self) -> forward.Report | None:
        """Forward what waits, then bring down the register and any newer content."""
        link = self.log.upstream()
        if link is None:
            return None
        with self.store.write() as db:
            writes.upstream_attempt(db, now())
        report = forward.forward(self.log, self.blob_root, timeout=self.timeout)
        bring_down_register(self.store, report.pulled)
        if report.pulled.content_version != self.content_version:
            upstream = forward.Upstream(link[0], link[1], self.timeout)
            try:
                self.content_version = bring_down_content(upstream, self.content_dir)
            finally:
                upstream.close()
            self.on_new_content()
        with self.store.write() as db:
            writes.upstream_up(db, now())
        return report

    def _record_error(self, message: str) -> None:
        try:
            with self.store.write() as db:
                writes.upstream_down(db, message, now())
        except Exception:  # the database itself failing: the log line is all that can be kept
            log.exception("cannot record the forwarder's error: %s", message)
