"""The forwarder: a hub sends on to head office what its phones pushed, by the same protocol.

The hub enrolls upstream like a phone (a one-time hub code from head office) and keeps its token
and a cursor: the `seq` of the last of its own received events that head office has answered
for. Each round reads the next events after the cursor (at most a batch), sends the photos they
name that head office lacks (HEAD, then PUT, resuming from the offset head office reports),
pushes the batch, and moves the cursor only after the answer. Head office stores an event once
whatever happens in between, so a round cut off anywhere is simply run again. An event head
office refuses as it is (rejected, or a conflict) is handed to the log with its reason and the
cursor moves past it: it never blocks the events behind it. An event in a format head office does
not accept yet (its pull says which it does) is not sent at all: the log holds it back, and it
goes once a pull says head office takes its format.

Every connection has a timeout on connecting, reading and writing, and TCP keepalive, so a link
that goes silent without closing (a half-open connection, a router that drops state) fails the
round in seconds instead of hanging it; the caller tries again later.
"""

import http.client
import socket
import ssl
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import msgspec
from msgspec.structs import replace

from sync.errors import UpstreamError
from sync.ingest import named_blobs
from sync.types import (
    MAX_BATCH,
    EnrollRequest,
    EnrollResponse,
    PullResponse,
    PushResponse,
    event_decoder,
)

_encoder = msgspec.json.Encoder()
_enroll_response = msgspec.json.Decoder(EnrollResponse)
_pull_response = msgspec.json.Decoder(PullResponse)
_push_response = msgspec.json.Decoder(PushResponse)

ForwardError = UpstreamError  # head office could not be reached or refused the hub; the message says which
TIMEOUT_SECONDS = 30  # connect, and each read or write: a silent link fails the round within this
# Keepalive probes after 20 s of quiet, every 5 s, 3 unanswered: a dead peer is noticed within 35 s
# even while a request waits for a slow answer.
KEEPALIVE = ((socket.TCP_KEEPIDLE, 20), (socket.TCP_KEEPINTVL, 5), (socket.TCP_KEEPCNT, 3))


class Log(Protocol):
    """What the forwarder needs of the hub's own database (the server provides it from its store)."""

    def upstream(self) -> tuple[str, str, int] | None:
        """(head office's URL, the hub's token there, the cursor), or None when not enrolled."""

    def events_after(self, cursor: int, limit: int) -> list[tuple[int, str]]:
        """(seq, body) of the next events received after cursor, in receive order."""

    def remaining(self, cursor: int) -> int:
        """How many events were received after cursor."""

    def advance(self, cursor: int, refused: list[tuple[int, str, str]], photos: list[str],
                waiting: list[tuple[int, str, int]]) -> None:
        """Head office has answered for every event up to cursor: remember it, with the events it
        refused ((seq, id, reason) each), the photos it now holds, and the events held back for a
        format it does not accept yet ((seq, id, format) each)."""

    def waiting(self, formats: list[int], limit: int) -> list[tuple[int, str]]:
        """(seq, body) of held-back events in one of these formats: head office takes them now."""

    def sent(self, seqs: list[int], refused: list[tuple[int, str, str]], photos: list[str]) -> None:
        """Held-back events head office has now answered for (some perhaps refusing them)."""


class Report(msgspec.Struct):
    """What one run of the forwarder did, and what head office said of itself at the start."""

    pulled: PullResponse | None = None
    events: int = 0
    stored: int = 0
    duplicate: int = 0
    refused: list[str] = []  # "id: reason" for events head office will not take as they are
    waiting: int = 0  # events held back: their format is newer than head office accepts
    photos: int = 0
    bytes: int = 0  # request bodies sent: events and photos
    cursor: int = 0
    remaining: int = 0


class _KeepAliveHTTP(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _keepalive(self.sock)


class _KeepAliveHTTPS(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _keepalive(self.sock)


def _keepalive(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in KEEPALIVE:
        sock.setsockopt(socket.IPPROTO_TCP, option, value)


class Upstream:
    """An HTTP(S) connection to head office's sync API, kept alive across requests."""

    def __init__(self, url: str, token: str | None = None, timeout: float = TIMEOUT_SECONDS):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ForwardError(f"upstream: {url!r} is not an http(s) address")
        self.base = parts.path.rstrip("/")
        self.token = token
        self.sent = 0  # bytes of request bodies
        if parts.scheme == "https":
            self.conn = _KeepAliveHTTPS(parts.hostname, parts.port, timeout=timeout, context=ssl.create_default_context())
        else:
            self.conn = _KeepAliveHTTP(parts.hostname, parts.port, timeout=timeout)

    def request(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, dict, bytes]:
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            self.conn.request(method, self.base + "/api/v1" + path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            raise ForwardError(f"upstream: cannot reach {self.conn.host}:{self.conn.port} ({exc})") from None
        self.sent += int(headers.get("Content-Length") or (len(body) if isinstance(body, bytes) else 0))
        if response.status == 401:
            raise ForwardError(f"upstream: head office refused the hub's token ({_detail(data)}); enroll again")
        if response.status >= 500:
            raise ForwardError(f"upstream: head office answered {response.status} ({_detail(data)}); trying later")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def pull(self) -> PullResponse:
        """What head office tells the hub: its shop in the register, terminals, staff, content version."""
        status, _, data = self.request("GET", "/pull")
        if status != 200:
            raise ForwardError(f"upstream: pull refused ({status}: {_detail(data)})")
        return _pull_response.decode(data)

    def close(self) -> None:
        self.conn.close()


def _detail(data: bytes) -> str:
    try:
        return str(msgspec.json.decode(data).get("detail", ""))
    except (msgspec.DecodeError, AttributeError):
        return data[:200].decode(errors="replace")


def enroll(url: str, code: str, name: str) -> EnrollResponse:
    """Enroll this server with head office at url using a one-time code: its answer (the token)."""
    device = str(uuid.uuid4())
    upstream = Upstream(url)
    try:
        body = _encoder.encode(EnrollRequest(code=code, device=device, name=name))
        status, _, data = upstream.request("POST", "/enroll", body, {"Content-Type": "application/json"})
    finally:
        upstream.close()
    if status != 200:
        raise ForwardError(f"upstream: enrollment refused ({status}: {_detail(data)})")
    return _enroll_response.decode(data)


def forward(log: Log, blob_root: Path, batch: int = MAX_BATCH, timeout: float = TIMEOUT_SECONDS,
            progress: Callable[[Report], None] = lambda report: None) -> Report:
    """Send everything after the cursor to head office, a batch at a time; the run's report."""
    found = log.upstream()
    if found is None:
        raise ForwardError("upstream: this server is not enrolled with head office (posaid upstream enroll URL CODE)")
    url, token, cursor = found
    report = Report(cursor=cursor, remaining=log.remaining(cursor))
    upstream = Upstream(url, token, timeout)
    try:
        report.pulled = upstream.pull()  # which formats head office takes, among what it says
        formats = report.pulled.formats
        while rows := log.waiting(formats, batch):  # held back until now: head office was upgraded
            events = [(seq, replace(event_decoder.decode(body), shop=None)) for seq, body in rows]
            refused, photos = _forward_batch(upstream, blob_root, events, report)
            log.sent([seq for seq, _ in rows], refused, photos)
        while rows := log.events_after(report.cursor, batch):
            events, held_back = [], []
            for seq, body in rows:
                event = replace(event_decoder.decode(body), shop=None)
                if event.v in formats:
                    events.append((seq, event))
                else:
                    held_back.append((seq, event.id, event.v))
            refused, photos = _forward_batch(upstream, blob_root, events, report) if events else ([], [])
            report.cursor = rows[-1][0]
            report.waiting += len(held_back)
            log.advance(report.cursor, refused, photos, held_back)
            report.remaining = log.remaining(report.cursor)
            report.bytes = upstream.sent
            progress(report)
    finally:
        upstream.close()
    return report


def _forward_batch(upstream: Upstream, blob_root: Path, events: list, report: Report
                   ) -> tuple[list[tuple[int, str, str]], list[str]]:
    """Send one batch (photos first); the events refused ((seq, id, reason)) and the photos sent."""
    # Head office shops its own way: the hub's shop id means nothing there, so the event goes
    # without one and head office files it under the hub's token's shop.
    photos = list(dict.fromkeys(sha for _, event in events for sha in named_blobs(event)))
    for sha in photos:
        report.photos += _send_blob(upstream, blob_root, sha)
    refused = []
    for attempt in range(2):
        status, _, data = upstream.request(
            "POST", "/events", _encoder.encode({"events": [event for _, event in events]}),
            {"Content-Type": "application/json"},
        )
        if status != 200:
            raise ForwardError(f"upstream: push refused ({status}: {_detail(data)})")
        again = []
        for (seq, event), result in zip(events, _push_response.decode(data).results, strict=True):
            if result.status in ("stored", "duplicate"):
                setattr(report, result.status, getattr(report, result.status) + 1)
            elif result.missing and attempt == 0:  # a photo went missing since: send it, push again
                for sha in result.missing:
                    report.photos += _send_blob(upstream, blob_root, sha)
                again.append((seq, event))
            else:
                refused.append((seq, event.id, f"{result.status}: {result.reason}"))
                report.refused.append(f"{event.id}: {result.status}: {result.reason}")
        report.events += len(events) - len(again)
        if not again:
            return refused, photos
        events = again
    return refused, photos


def _send_blob(upstream: Upstream, blob_root: Path, sha: str) -> int:
    """Send one blob unless head office holds it; 1 if bytes were sent."""
    path = blob_root / sha[:2] / sha[2:]
    status, headers, _ = upstream.request("HEAD", f"/blobs/{sha}")
    if status == 200:
        return 0
    if not path.is_file():  # named by an event that was stored without it cannot happen; say so
        raise ForwardError(f"blob {sha}: named by an event here but missing from {blob_root}")
    size = path.stat().st_size
    offset = int(headers.get("upload-offset", "0"))
    for _ in range(3):
        with path.open("rb") as file:
            file.seek(offset)
            status, headers, data = upstream.request("PUT", f"/blobs/{sha}", file, {
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(size - offset),
                "Upload-Offset": str(offset),
                "Upload-Length": str(size),
            })
        if status in (200, 201) and headers.get("upload-complete") == "?1":
            return 1
        if status in (200, 409):  # partial, or another offset held: go on from there
            offset = int(headers.get("upload-offset", offset))
            continue
        raise ForwardError(f"blob {sha}: head office refused it ({status}: {_detail(data)})")
    raise ForwardError(f"blob {sha}: upload did not complete")
