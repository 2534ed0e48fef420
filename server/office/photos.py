"""Photos as head office sees them: re-encoded by the server, never the bytes a phone sent.

Each photo is decoded with Pillow, turned upright (EXIF orientation), shrunk to a thumbnail or a
larger view, and saved as a new JPEG with no metadata at all; the result is cached on disk beside
the database (data/cache/photos/<size>/…), written to a temporary name and renamed, so every app
server on the data folder shares the cache and none reads a half-written file. A photo is served
only to a signed-in user whose scope includes a shop that holds it (checked in SQL), under a URL
named by its sha256; the Content-Type comes from the bytes served, with nosniff (server/headers.py).
"""

import io
import os
import secrets
from pathlib import Path
from typing import Literal

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from PIL import Image, ImageOps

from server import queries
from server.office.exports import sniff
from server.store import Store
from sync.blobs import SHA256, BlobStore
from sync.errors import NotFound

SIZES = {"thumb": 320, "large": 1600}
Size = Literal["thumb", "large"]


class PhotoCache:
    """Re-encoded photos on disk, made on first use."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, sha: str, size: str) -> Path:
        return self.root / size / sha[:2] / f"{sha[2:]}.jpg"

    def get(self, source: Path, sha: str, size: str) -> bytes:
        """The re-encoded photo (from the cache, or made now from the blob at `source`)."""
        cached = self.path(sha, size)
        try:
            return cached.read_bytes()
        except FileNotFoundError:
            pass
        try:
            data = reencode(source, SIZES[size])
        except FileNotFoundError:
            raise NotFound("photo: this photo is not held here") from None
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{secrets.token_hex(4)}")
        partial.write_bytes(data)
        os.replace(partial, cached)
        return data


def reencode(source: Path, longest: int) -> bytes:
    """A new JPEG of the image at source, upright, at most `longest` pixels a side, without metadata."""
    with Image.open(source) as image:
        image.draft("RGB", (longest, longest))  # JPEG: decode at a fraction of the size, much faster
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((longest, longest))
        out = io.BytesIO()
        # No exif=, icc_profile= or comment: the saved file carries pixels only.
        upright.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()


@get("/photos/{sha:str}/{size:str}", sync_to_thread=True)
def photo(request: Request, sha: FromPath[str], size: FromPath[str], store: NamedDependency[Store],
          blob_store: NamedDependency[BlobStore], photos: NamedDependency[PhotoCache]) -> Response:
    """A photo re-encoded at one size, if a shop within the user's scope holds it."""
    if not SHA256.match(sha) or size not in SIZES:
        raise NotFound("photo: no such photo")
    with store.read() as db:
        held = queries.photo_in_scope(db, request.user.scope, sha)
    if not held:
        raise NotFound("photo: no such photo")  # the same answer whether it exists elsewhere or not
    data = photos.get(blob_store.path(sha), sha, size)
    return Response(data, media_type=sniff(data[:16]),
                    headers={"Cache-Control": "private, max-age=86400", "Content-Disposition": "inline"})
