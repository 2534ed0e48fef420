"""Photos as head office sees them: re-encoded by the server, never the bytes a phone sent.

Each photo is decoded with Pillow, turned upright (EXIF orientation), shrunk to a thumbnail or a
larger view, and saved as a new JPEG with no metadata at all; the result is cached on a shelf
(sync/shelf.py: data/cache/photos/<size>/… beside the database, or cache/photos/ in the blobs'
bucket), written whole, so every app server shares the cache and none reads a half-written file. A photo is served
only to a signed-in user whose scope includes a shop that holds it (checked in SQL), under a URL
named by its sha256; the Content-Type comes from the bytes served, with nosniff (server/headers.py).
"""

import io
from pathlib import Path
from typing import BinaryIO, Literal

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from PIL import Image, ImageOps

from server import queries
from server.office.exports import sniff
from server.store import Store
from sync.blobs import SHA256, BlobStore
from sync.errors import NotFound
from sync.shelf import Shelf

SIZES = {"thumb": 320, "large": 1600}
Size = Literal["thumb", "large"]


class PhotoCache:
    """Re-encoded photos on a shelf, made on first use."""

    def __init__(self, shelf: Shelf):
        self.shelf = shelf

    def get(self, blobs: BlobStore, sha: str, size: str) -> bytes:
        """The re-encoded photo (from the cache, or made now from the blob)."""
        key = f"{size}/{sha[:2]}/{sha[2:]}.jpg"
        data = self.shelf.get(key)
        if data is not None:
            return data
        try:
            with blobs.open(sha) as source:
                data = reencode(source, SIZES[size])
        except FileNotFoundError:
            raise NotFound("photo: this photo is not held here") from None
        self.shelf.put(key, data)
        return data


def reencode(source: BinaryIO | Path, longest: int) -> bytes:
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
    data = photos.get(blob_store, sha, size)
    return Response(data, media_type=sniff(data[:16]),
                    headers={"Cache-Control": "private, max-age=86400", "Content-Disposition": "inline"})
