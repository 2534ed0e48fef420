"""The blob routes of the sync API: HEAD to ask what is held, PUT to stream (or resume) an upload.

The protocol (statuses and the Upload-Offset / Upload-Length / Upload-Complete headers) is
described in sync/blobs.py, which keeps the files.
"""

import anyio
from litestar import Request, Response, head, put
from litestar.datastructures import State
from litestar.exceptions import ClientException, HTTPException, InternalServerException
from litestar.params import FromPath

from server.db import now
from server.openapi import BEARER, documented_body
from sync import blobs
from sync.types import BlobStatus

STATUS = {"busy": 409, "offset": 409, "too_large": 413, "length": 400, "hash": 422, "type": 415, "bomb": 422}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


def _name(sha: str) -> str:
    if not blobs.SHA256.match(sha):
        raise ClientException(f"blob name: expected the sha256 of the bytes as 64 lowercase hex digits, got {sha!r}")
    return sha


def _whole_number(request: Request, header: str, default: int | None) -> int | None:
    value = request.headers.get(header)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()):
        raise ClientException(f"{header}: expected a whole number of bytes, got {value!r}")
    return int(value)


def _headers(offset: int, complete: bool) -> dict[str, str]:
    return {"Upload-Offset": str(offset), "Upload-Complete": "?1" if complete else "?0"}


def _refused(exc: blobs.BlobError) -> HTTPException:
    headers = _headers(exc.offset, False) if exc.offset is not None else None
    return ClientException(str(exc), status_code=STATUS[exc.kind], headers=headers)


def _held(state: State, shop_id: int, sha: str) -> int | None:
    with state.store.read() as db:
        return blobs.held(db, shop_id, sha)


@head("/blobs/{sha:str}", sync_to_thread=True, security=BEARER)
def blob_head(request: Request, sha: FromPath[str], state: State) -> Response[None]:
    """Is the blob held? 200 if so; else 404, with the offset of an unfinished upload to resume from."""
    shop_id = request.user.shop_id
    size = _held(state, shop_id, _name(sha))
    if size is not None:
        return Response(b"", status_code=200, headers=_headers(size, True))
    return Response(b"", status_code=404, headers=_headers(state.blobs.offset(shop_id, sha), False))


_PUT_BODY = {"type": "string", "format": "binary", "description": "the blob's bytes from Upload-Offset on"}


@put(
    "/blobs/{sha:str}",
    security=BEARER,
    operation_class=documented_body(_PUT_BODY, (*IMAGE_TYPES, "application/octet-stream")),
    request_max_body_size=None,  # the blob store applies its own cap, counting resumed bytes too
)
async def blob_put(request: Request, sha: FromPath[str], state: State) -> Response[BlobStatus]:
    """Upload a blob (a photo), or resume one from Upload-Offset; verified against its name."""
    shop_id = request.user.shop_id
    _name(sha)
    offset = _whole_number(request, "Upload-Offset", 0)
    length = _whole_number(request, "Upload-Length", None)
    size = _held(state, shop_id, sha)
    if size is not None:  # held already: nothing to read
        return _answer(sha, size, True, 200)
    try:
        upload = await anyio.to_thread.run_sync(
            state.blobs.begin, shop_id, sha, offset, length, request.content_length
        )
    except blobs.BlobError as exc:
        raise _refused(exc) from None
    try:
        async for chunk in request.stream():
            if chunk:
                upload.write(chunk)
    except blobs.BlobError as exc:  # over the cap or past Upload-Length: the partial is gone
        raise _refused(exc) from None
    except InternalServerException:  # the client went away: keep what came, for a resume
        upload.keep()
        return _answer(sha, upload.size, False, 200)
    except BaseException:
        upload.keep()
        raise
    if not upload.complete:
        upload.keep()
        return _answer(sha, upload.size, False, 200)
    try:
        info = await anyio.to_thread.run_sync(_finish, state, upload, shop_id)
    except blobs.BlobError as exc:
        raise _refused(exc) from None
    return _answer(sha, info.size, True, 201, info.media_type)


def _finish(state: State, upload: blobs.Upload, shop_id: int) -> blobs.BlobInfo:
    info = upload.finish()
    with state.store.write() as db:
        blobs.record(db, info, shop_id, now())
    return info


def _answer(sha: str, offset: int, complete: bool, status: int, media_type: str | None = None) -> Response[BlobStatus]:
    body = BlobStatus(sha256=sha, offset=offset, complete=complete, media_type=media_type)
    return Response(body, status_code=status, headers=_headers(offset, complete))
