"""The blob routes of the sync API: HEAD to ask what is held, PUT to stream (or resume) an upload.

The protocol (statuses and the Upload-Offset / Upload-Length / Upload-Complete headers) is
described in sync/blobs.py, which keeps the files. Here: who may upload what, one upload of a
blob at a time (claimed in the database, so every app server agrees), and SQLite touched only
from worker threads, never on the event loop.
"""

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

import anyio
from litestar import Request, Response, head, put
from litestar.di import NamedDependency
from litestar.exceptions import InternalServerException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from server import queries, writes
from server.openapi import BEARER, documented, problems
from server.settings import Settings
from server.store import Store, now
from sync import blobs
from sync.errors import BadRequest, Conflict, TooLarge
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


SHA = Annotated[str, Parameter(description="the sha256 of the blob's bytes", schema_extra={"pattern": "^[0-9a-f]{64}$"})]
_UPLOAD_HEADERS = (
    ("Upload-Offset", {"type": "integer", "minimum": 0}, "where this body starts: the bytes the server holds (0: new)"),
    ("Upload-Length", {"type": "integer", "minimum": 0}, "the blob's whole size, when the body may be only part"),
)


@head("/blobs/{sha:str}", sync_to_thread=True, security=BEARER, responses={
    **problems(400, 401, 503),
    404: ResponseSpec(None, description="not held; Upload-Offset says how much of an unfinished upload is kept"),
})
def blob_head(
    request: Request, sha: SHA, store: NamedDependency[Store], blob_store: NamedDependency[blobs.BlobStore]
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
        with self.store.write(durable=False) as db:
            return writes.claim_upload(db, self.shop_id, self.sha, self.holder, at) or writes.take_over_upload(
                db, self.shop_id, self.sha, self.holder, idle_before, at)

    def due(self) -> bool:
        """Time to say again that this upload is still sending (at most every few seconds)."""
        return time.monotonic() - self.touched >= TOUCH_EVERY_SECONDS

    def touch(self) -> None:
        """This upload is still sending; refused if another took it over meanwhile."""
        self.touched = time.monotonic()
        with self.store.write(durable=False) as db:
            if not writes.touch_upload(db, self.shop_id, self.sha, self.holder, now()):
                raise Conflict("this upload stalled and another took it over; resume from the offset HEAD reports")

    def release(self) -> None:
        with self.store.write(durable=False) as db:
            writes.release_upload(db, self.shop_id, self.sha, self.holder)


_PUT_BODY = {"type": "string", "format": "binary", "description": "the blob's bytes from Upload-Offset on"}


@put(
    "/blobs/{sha:str}",
    security=BEARER,
    operation_class=documented(_PUT_BODY, (*IMAGE_TYPES, "application/octet-stream"), _UPLOAD_HEADERS),
    responses=problems(400, 401, 408, 409, 413, 415, 422, 503),
    request_max_body_size=None,  # the blob store applies its own cap, counting resumed bytes too
)
async def blob_put(
    request: Request,
    sha: SHA,
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
    await anyio.to_thread.run_sync(_give_up_abandoned, store, blob_store, settings.partial_days)
    claim = _Claim(store, shop_id, sha, settings.body_idle_seconds)
    if not await anyio.to_thread.run_sync(claim.take):
        raise blob_store.busy(shop_id, sha)
    try:
        await anyio.to_thread.run_sync(
            _check_quota, store, request.user.id, shop_id, sha, (length or request.content_length or 0),
            settings.partial_bytes_per_device)
        upload = blob_store.begin(shop_id, sha, offset, length, request.content_length)
        try:
            async for chunk in request.stream():
                if chunk:
                    upload.write(chunk)
                    if claim.due():
                        await anyio.to_thread.run_sync(claim.touch)
        except InternalServerException:  # the client went away: keep what came, for a resume
            return await _keep(store, upload, request.user.id)
        except BaseException:  # refused (over the cap: the partial is gone already), stalled, taken over
            await _keep(store, upload, request.user.id)
            raise
        if not upload.complete:
            return await _keep(store, upload, request.user.id)
        info = await anyio.to_thread.run_sync(_finish, store, upload, shop_id)
        return _answer(sha, info.size, True, 201, info.media_type)
    finally:
        await anyio.to_thread.run_sync(claim.release)


async def _keep(store: Store, upload: blobs.Upload, device: str) -> Response[BlobStatus]:
    """Keep the bytes that came for a resume, noted as this device's; the answer saying how many."""
    upload.keep()
    if upload.path.exists():
        def note() -> None:
            with store.write() as db:
                writes.keep_partial(db, upload.shop_id, upload.sha, device, upload.size, now())

        await anyio.to_thread.run_sync(note)
    return _answer(upload.sha, upload.size, False, 200)


def _check_quota(store: Store, device: str, shop_id: int, sha: str, size: int, quota: int) -> None:
    """A device keeps only so many bytes of unfinished uploads; this one counts at its full size."""
    with store.read() as db:
        held = queries.partial_bytes(db, device, (shop_id, sha))
    if held + size > quota:
        raise TooLarge(f"partial uploads: this device keeps {held} bytes of unfinished uploads and this one "
                       f"would pass the {quota}-byte limit; finish those first")


def _give_up_abandoned(store: Store, blob_store: blobs.BlobStore, days: float) -> None:
    """Delete unfinished uploads nobody has added to for `days` (a few at a time, as uploads come)."""
    before = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    with store.read() as db:
        abandoned = queries.partials_untouched_since(db, before)
    for shop_id, sha in abandoned:
        blob_store.partial_path(shop_id, sha).unlink(missing_ok=True)
        with store.write() as db:
            writes.drop_partial(db, shop_id, sha)


def _finish(store: Store, upload: blobs.Upload, shop_id: int) -> blobs.BlobInfo:
    try:
        info = upload.finish()
    except BaseException:  # refused, and its bytes deleted: no longer a partial either
        with store.write(durable=False) as db:
            writes.drop_partial(db, shop_id, upload.sha)
        raise
    with store.write() as db:
        writes.drop_partial(db, shop_id, upload.sha)
        writes.record_blob(db, info, shop_id, now())
    return info


def _answer(sha: str, offset: int, complete: bool, status: int, media_type: str | None = None) -> Response[BlobStatus]:
    body = BlobStatus(sha256=sha, offset=offset, complete=complete, media_type=media_type)
    return Response(body, status_code=status, headers=blobs.upload_headers(offset, complete))
