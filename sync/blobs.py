"""Blobs (photos), named by their sha256 and kept exactly as sent: streamed to disk, verified, resumable.

The upload protocol (tus-like; the API's routes speak it, this module keeps the files):

- ``HEAD /api/v1/blobs/{sha256}``: **200** when the shop holds the blob, with ``Upload-Offset`` =
  its size and ``Upload-Complete: ?1``; otherwise **404** with ``Upload-Offset`` = the bytes of an
  unfinished upload kept for resuming (0 when none) and ``Upload-Complete: ?0``. So a 200 always
  means "held"; a client never mistakes a half-sent photo for a sent one.
- ``PUT /api/v1/blobs/{sha256}`` with ``Upload-Offset: N`` (0, or absent, for a new upload) and
  optionally ``Upload-Length: total``: the body is appended from byte N. N must equal what the
  server holds, else **409** with the held ``Upload-Offset``. The blob is complete when
  Upload-Length bytes are held, or, without Upload-Length, when the body ends. Then its sha256
  must equal the name (else **422**, and the partial file is deleted), Pillow must read it as
  JPEG, PNG or WebP (else **415** naming what it is) of at most MAX_PIXELS pixels (else **422**: a
  decompression bomb) carrying no text metadata (else **422**: EXIF, XMP, a comment or text chunk
  could hold a location or a card number). A body that ends before Upload-Length (or a broken connection) leaves a
  partial file to resume from. Answers: **201** when this request completed the blob, **200** when
  it was held already or is still partial, each with ``Upload-Offset`` and ``Upload-Complete``.
  More than the size cap (Upload-Length, Content-Length or the bytes streamed) → **413**, nothing kept.

Files: ``<sha[:2]>/<sha[2:]>`` on the shelf once complete (sync/shelf.py: the blob folder, or an
S3 bucket; one file per content, whichever shop sent it; the server's blobs table records which
shops hold it), ``<root>/partial/<shop>-<sha>`` on this machine's disk while in progress. Only one upload of a blob per shop runs at a time (another gets 409 until it ends): the
server keeps that claim in its database, so that every app server sees it.

Memory does not grow with the blob: bytes go to disk chunk by chunk, the hash is updated as they
pass, and Pillow reads JPEG and PNG headers only. WebP is the exception Pillow imposes (its libwebp
reader takes the whole file and sizes the canvas on open), so a WebP's dimensions are checked from
its RIFF header before Pillow opens it.
"""

import hashlib
import os
import re
import warnings
from pathlib import Path

import msgspec
from PIL import Image, UnidentifiedImageError

from sync.errors import (
    BadRequest,
    Conflict,
    PosaidError,
    TooLarge,
    Unavailable,
    Unprocessable,
    UnsupportedMedia,
)
from sync.metadata import text_metadata
from sync.shelf import Folder, Shelf

MAX_PIXELS = 40_000_000
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{62}$")
_READ_CHUNK = 1 << 20


def upload_headers(offset: int, complete: bool) -> dict[str, str]:
    """The headers every answer about an upload carries: what is held, and whether that is all."""
    return {"Upload-Offset": str(offset), "Upload-Complete": "?1" if complete else "?0"}


def _refused(kind: type[PosaidError], message: str, offset: int | None = None) -> PosaidError:
    """An upload refused, carrying the held offset when the client should resume from it."""
    return kind(message, headers=upload_headers(offset, False) if offset is not None else None)


class BlobInfo(msgspec.Struct, frozen=True):
    sha256: str
    size: int
    media_type: str


def blob_key(sha: str) -> str:
    """A complete blob's key on its shelf."""
    return f"{sha[:2]}/{sha[2:]}"


class BlobStore:
    """The blobs: partials under a local root, complete ones on a shelf (by default a folder at the
    same root), with the size cap every upload is held to."""

    def __init__(self, root: Path, max_bytes: int, max_pixels: int = MAX_PIXELS, shelf: Shelf | None = None):
        self.root, self.max_bytes, self.max_pixels = Path(root), max_bytes, max_pixels
        self.partials = self.root / "partial"
        self.partials.mkdir(parents=True, exist_ok=True)
        self.shelf = shelf if shelf is not None else Folder(self.root)

    def read(self, sha: str) -> bytes | None:
        """A complete blob's bytes, or None when it is not held here."""
        return self.shelf.get(blob_key(sha))

    def open(self, sha: str):
        """A context manager giving a complete blob as a seekable file; FileNotFoundError when absent."""
        return self.shelf.open(blob_key(sha))

    def held(self) -> list[str]:
        """The sha256 of every complete blob on the shelf."""
        return sorted(key.replace("/", "") for key in self.shelf.keys() if _KEY.match(key))

    def partial_path(self, shop_id: int, sha: str) -> Path:
        return self.partials / f"{shop_id}-{sha}"

    def offset(self, shop_id: int, sha: str) -> int:
        """The bytes of an unfinished upload kept for this shop (0 when none)."""
        try:
            return self.partial_path(shop_id, sha).stat().st_size
        except FileNotFoundError:
            return 0

    def busy(self, shop_id: int, sha: str) -> PosaidError:
        """The refusal for an upload of a blob that another upload is sending right now."""
        return _refused(Conflict, "another upload of this blob is in progress; retry later", self.offset(shop_id, sha))

    def begin(self, shop_id: int, sha: str, offset: int, length: int | None, announced: int | None) -> "Upload":
        """Start (or resume) an upload at offset, the caller holding the claim on it; refused when the
        offset, length or size is wrong."""
        if length is not None and length > self.max_bytes:
            raise TooLarge(f"Upload-Length {length} is over the {self.max_bytes}-byte limit for a blob")
        if announced is not None and offset + announced > self.max_bytes:
            raise TooLarge(f"Content-Length {announced} from offset {offset} is over the "
                           f"{self.max_bytes}-byte limit for a blob")
        if length is not None and announced is not None and offset + announced > length:
            raise BadRequest(f"Content-Length {announced} from offset {offset} runs past Upload-Length {length}")
        held = self.offset(shop_id, sha)
        if offset != held:
            raise _refused(Conflict, f"Upload-Offset {offset} does not match the {held} bytes held; "
                                     f"resume from {held}", held)
        if length is not None and length < offset:
            raise BadRequest(f"Upload-Length {length} is less than Upload-Offset {offset}")
        return Upload(self, shop_id, sha, offset, length)


class Upload:
    """One request's worth of bytes appended to a partial blob."""

    def __init__(self, store: BlobStore, shop_id: int, sha: str, offset: int, length: int | None):
        self.store, self.shop_id, self.sha, self.length = store, shop_id, sha, length
        self.path = store.partial_path(shop_id, sha)
        self.hash = hashlib.sha256()
        self.size = offset
        if offset:  # resuming: the hash must cover the bytes already held
            with open(self.path, "rb") as held:
                while chunk := held.read(_READ_CHUNK):
                    self.hash.update(chunk)
        self.file = open(self.path, "ab")
        self.closed = False

    @property
    def complete(self) -> bool:
        """All the bytes are here: Upload-Length reached, or (without one) the body has ended."""
        return self.length is None or self.size == self.length

    def write(self, chunk: bytes) -> None:
        """Append a chunk; over the cap or past Upload-Length, the partial is deleted and the upload refused."""
        self.size += len(chunk)
        if self.size > self.store.max_bytes:
            self.discard()
            raise TooLarge(f"the blob is over the {self.store.max_bytes}-byte limit")
        if self.length is not None and self.size > self.length:
            self.discard()
            raise BadRequest(f"the body runs past Upload-Length {self.length}")
        self.file.write(chunk)
        self.hash.update(chunk)

    def keep(self) -> None:
        """Stop here and keep the bytes so far for a later resume."""
        self._close()

    def discard(self) -> None:
        """Stop here and delete the partial file."""
        self._close()
        self.path.unlink(missing_ok=True)

    def finish(self) -> BlobInfo:
        """Verify hash, type and pixels, then put the blob on its shelf (atomically, fsynced)."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self._close()
            digest = self.hash.hexdigest()
            if digest != self.sha:
                raise Unprocessable(f"hash mismatch: the bytes received hash to {digest}, not to the name {self.sha}")
            media_type = identify(self.path, self.store.max_pixels)
        except BaseException:
            self.discard()
            raise
        try:
            self.store.shelf.put_file(blob_key(self.sha), self.path)  # a blob already there has these bytes
        except Exception as exc:  # a folder's OSError, or a bucket's connection or server error
            # The verified bytes stay as the partial: a resume at their full length (an empty
            # body) puts them on the shelf again.
            raise Unavailable(f"the blob store did not take the photo ({exc}); resume from {self.size}",
                              headers=upload_headers(self.size, False)) from None
        return BlobInfo(sha256=self.sha, size=self.size, media_type=media_type)

    def _close(self) -> None:
        if not self.closed:
            self.file.close()
            self.closed = True


def identify(path: Path, max_pixels: int = MAX_PIXELS) -> str:
    """The media type of an image file read by Pillow; refused for other files, bombs, and images
    carrying text metadata (sync/metadata.py)."""
    with open(path, "rb") as file:
        head = file.read(30)
    size = webp_size(head)
    if size is not None:
        _check_pixels(size, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=list(MEDIA_TYPES)) as image:
                kind, size = image.format, image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Unprocessable(f"decompression bomb refused: {exc}") from None
    except UnidentifiedImageError:
        raise UnsupportedMedia(f"{_name_of(path)}: only JPEG, PNG or WebP images are accepted") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMedia(f"not a readable JPEG, PNG or WebP image ({exc})") from None
    _check_pixels(size, max_pixels)
    with open(path, "rb") as file:
        metadata = text_metadata(file, MEDIA_TYPES[kind])
    if metadata:
        raise Unprocessable(f"photo: it carries text metadata ({metadata}), which may hold a location or a card "
                            "number; send it as the app does, re-encoded without it")
    return MEDIA_TYPES[kind]


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise Unprocessable(f"decompression bomb refused: {width}×{height} pixels is over the "
                                f"{max_pixels // 1_000_000}-megapixel limit")


def _name_of(path: Path) -> str:
    """What Pillow takes the file to be, to name it in a refusal (its headers only are read)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                return f"a {image.format} image"
    except Exception:  # anything Pillow cannot name is simply "not an image"
        return "not an image"


def webp_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from the first 30 bytes of a WebP file (None if it is not WebP)."""
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8 ":
        return (int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(head[28:30], "little") & 0x3FFF)
    if chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        return (int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1)
    return None
