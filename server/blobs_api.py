"""The blob routes of the sync API: HEAD to ask what is held, PUT to stream (or resume) an upload.

The protocol (statuses and the Upload-Offset / Upload-Length / Upload-Complete headers) is
described in sync/blobs.py, which keeps the files. Here: who may upload what, one upload of a
blob at a time (claimed in the database, so every app server agrees), and SQLite touched only
from worker threads, never on the event loop.
"""

import secrets
import time
from datetime import UTC, datetime, timedelta

import anyio
from litestar import Request, Response, head, put
from litestar.di import NamedDependency
from litestar.exceptions import InternalServerException
from litestar.params import FromPath

from server import queries, writes
from server.openapi import BEARER, documented_body
from server.settings import Settings
from server.store import Store, now
from sync import blobs
from sync.errors import BadRequest, Conflict
from sync.types import BlobStatus

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
TOUCH_EVERY_SECONDS = 5  # how often a long upload tells the database it is still sending


def _name(sha: str) -> str:
    if not blobs.SHA256.match(sha):
        raise BadRequest(f"blob name: expected the sha256 of the bytes as 64 lowercase hex digits, got {sha!r}")
    return sha


def _whole_number(request: Request, header: str, default: int | None) -> int | None:
    value = request.headers.get(header)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()):
        raise BadRequest(f"{header}: expected a whole number of bytes, got {value!r}")
    return int(value)


def _held(store: Store, shop_id: int, sha: str) -> int | None:
    with store.read() as db:
        return queries.blob_size(db, shop_id, sha)


@head("/blobs/{sha:str}", sync_to_thread=True, security=BEARER)
def blob_head(
    request: Request, sha: FromPath[str], store: NamedDependency[Store], blob_store: NamedDependency[blobs.BlobStore]
) -> Response[None]:
    """Is the blob held? 200 if so; else 404, with the offset of an unfinished upload to resume from."""
    shop_id = request.user.shop_id
    size = _held(store, shop_id, _name(sha))
    if size is not None:
        return Response(b"", status_code=200, headers=blobs.upload_headers(size, True))
    return Response(b"", status_code=404, headers=blobs.upload_headers(blob_store.offset(shop_id, sha), False))


class _Claim:
    """This request's claim on uploading one blob for one shop, held in the database."""

    def __init__(self, store: Store, shop_id: int, sha: str, idle_seconds: float):
        self.store, self.shop_id, self.sha, self.idle_seconds = store, shop_id, sha, idle_seconds
        self.holder = secrets.token_hex(8)
        self.touched = time.monotonic()

    def take(self) -> bool:
        """Claim the upload, or take it over from a holder idle for longer than idle_seconds."""
        at = now()
        idle_before = (datetime.now(UTC) - timedelta(seconds=self.idle_seconds)).isoformat()
        with self.store.write() as db:
            return writes.claim_upload(db, self.shop_id, self.sha, self.holder, at) or writes.take_over_upload(
                db, self.shop_id, self.sha, self.holder, idle_before, at)

    def due(self) -> bool:
        """Time to say again that this upload is still sending (at most every few seconds)."""
        return time.monotonic() - self.touched >= TOUCH_EVERY_SECONDS

    def touch(self) -> None:
        """This upload is still sending; refused if another took it over meanwhile."""
        self.touched = time.monotonic()
        with self.store.write() as db:
            if not writes.touch_upload(db, self.shop_id, self.sha, self.holder, now()):
                raise Conflict("this upload stalled and another took it over; resume from the offset HEAD reports")

    def release(self) -> None:
        with self.store.write() as db:
            writes.release_upload(db, self.shop_id, self.sha, self.holder)


_PUT_BODY = {"type": "string", "format": "binary", "description": "the blob's bytes from Upload-Offset on"}


@put(
    "/blobs/{sha:str}",
    security=BEARER,
    operation_class=documented_body(_PUT_BODY, (*IMAGE_TYPES, "application/octet-stream")),
    request_max_body_size=None,  # the blob store applies its own cap, counting resumed bytes too
)
async def blob_put(
    request: Request,
    sha: FromPath[str],
    store: NamedDependency[Store],
    blob_store: NamedDependency[blobs.BlobStore],
    settings: NamedDependency[Settings],
) -> Response[BlobStatus]:
    """Upload a blob (a photo), or resume one from Upload-Offset; verified against its name."""
    shop_id = request.user.shop_id
    _name(sha)
    offset = _whole_number(request, "Upload-Offset", 0)
    length = _whole_number(request, "Upload-Length", None)
    size = await anyio.to_thread.run_sync(_held, store, shop_id, sha)
    if size is not None:  # held already: nothing to read
        return _answer(sha, size, True, 200)
    claim = _Claim(store, shop_id, sha, settings.body_idle_seconds)
    if not await anyio.to_thread.run_sync(claim.take):
        raise blob_store.busy(shop_id, sha)
    try:
        upload = blob_store.begin(shop_id, sha, offset, length, request.content_length)
        try:
            async for chunk in request.stream():
                if chunk:
                    upload.write(chunk)
                    if claim.due():
                        await anyio.to_thread.run_sync(claim.touch)
        except InternalServerException:  # the client went away: keep what came, for a resume
            upload.keep()
            return _answer(sha, upload.size, False, 200)
        except BaseException:  # refused (over the cap: the partial is gone already), or taken over
            upload.keep()
            raise
        if not upload.complete:
            upload.keep()
            return _answer(sha, upload.size, False, 200)
        info = await anyio.to_thread.run_sync(_finish, store, upload, shop_id)
        return _answer(sha, info.size, True, 201, info.media_type)
    finally:
        await anyio.to_thread.run_sync(claim.release)


def _finish(store: Store, upload: blobs.Upload, shop_id: int) -> blobs.BlobInfo:
    info = upload.finish()
    with store.write() as db:
        writes.record_blob(db, info, shop_id, now())
    return info


def _answer(sha: str, offset: int, complete: bool, status: int, media_type: str | None = None) -> Response[BlobStatus]:
    body = BlobStatus(sha256=sha, offset=offset, complete=complete, media_type=media_type)
    return Response(body, status_code=status, headers=blobs.upload_headers(offset, complete))
