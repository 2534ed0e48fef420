"""The forwarder: a hub sends on to head office what its phones pushed, by the same protocol.

The hub enrolls upstream like a phone (a one-time code from head office) and keeps its token and
a cursor: the `seq` of the last of its own received events that head office has answered for.
Each round reads the next events after the cursor (at most a batch), sends the photos they name
that head office lacks (HEAD, then PUT, resuming from the offset head office reports), pushes the
batch, and moves the cursor only after the answer. Head office stores an event once whatever
happens in between, so a round cut off anywhere is simply run again.
"""

import http.client
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
    PushResponse,
    event_decoder,
)

_encoder = msgspec.json.Encoder()
_enroll_response = msgspec.json.Decoder(EnrollResponse)
_push_response = msgspec.json.Decoder(PushResponse)


ForwardError = UpstreamError  # head office could not be reached or refused the hub; the message says which


class Log(Protocol):
    """What the forwarder needs of the hub's own database (the server provides it from its store)."""

    def upstream(self) -> tuple[str, str, int] | None:
        """(head office's URL, the hub's token there, the cursor), or None when not enrolled."""

    def events_after(self, cursor: int, limit: int) -> list[tuple[int, str]]:
        """(seq, body) of the next events received after cursor, in receive order."""

    def remaining(self, cursor: int) -> int:
        """How many events were received after cursor."""

    def advance(self, cursor: int) -> None:
        """Head office has answered for every event up to cursor: remember it."""


class Report(msgspec.Struct):
    """What one run of the forwarder did."""

    events: int = 0
    stored: int = 0
    duplicate: int = 0
    refused: list[str] = []  # "id: reason" for events head office will never take as they are
    photos: int = 0
    cursor: int = 0
    remaining: int = 0


class Upstream:
    """An HTTP(S) connection to head office's sync API, kept alive across requests."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ForwardError(f"upstream: {url!r} is not an http(s) address")
        self.base = parts.path.rstrip("/")
        self.token = token
        if parts.scheme == "https":
            self.conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

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
        if response.status == 401:
            raise ForwardError(f"upstream: head office refused the hub's token ({_detail(data)}); enroll again")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

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


def forward(log: Log, blob_root: Path, batch: int = MAX_BATCH,
            progress: Callable[[Report], None] = lambda report: None) -> Report:
    """Send everything after the cursor to head office, a batch at a time; the run's report."""
    found = log.upstream()
    if found is None:
        raise ForwardError("upstream: this server is not enrolled with head office (posaid upstream enroll URL CODE)")
    url, token, cursor = found
    report = Report(cursor=cursor)
    upstream = Upstream(url, token)
    try:
        while True:
            rows = log.events_after(report.cursor, batch)
            if not rows:
                break
            events = [replace(event_decoder.decode(body), shop=None) for _, body in rows]
            _forward_batch(upstream, blob_root, events, report)
            report.cursor = rows[-1][0]
            log.advance(report.cursor)
            report.remaining = log.remaining(report.cursor)
            progress(report)
    finally:
        upstream.close()
    return report


def _forward_batch(upstream: Upstream, blob_root: Path, events: list, report: Report) -> None:
    # Head office shops its own way: the hub's shop id means nothing there, so the event goes
    # without one and head office files it under the hub's token's shop.
    for sha in dict.fromkeys(sha for event in events for sha in named_blobs(event)):
        report.photos += _send_blob(upstream, blob_root, sha)
    for attempt in range(2):
        status, _, data = upstream.request(
            "POST", "/events", _encoder.encode({"events": events}), {"Content-Type": "application/json"}
        )
        if status != 200:
            raise ForwardError(f"upstream: push refused ({status}: {_detail(data)})")
        again = []
        for event, result in zip(events, _push_response.decode(data).results, strict=True):
            if result.status in ("stored", "duplicate"):
                setattr(report, result.status, getattr(report, result.status) + 1)
            elif result.missing and attempt == 0:  # a photo went missing since: send it, push again
                for sha in result.missing:
                    report.photos += _send_blob(upstream, blob_root, sha)
                again.append(event)
            else:
                report.refused.append(f"{event.id}: {result.status}: {result.reason}")
        report.events += len(events) - len(again)
        if not again:
            return
        events = again


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
