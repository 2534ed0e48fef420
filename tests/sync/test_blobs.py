"""The blob store: streamed to disk, verified against its name and type, resumable, capped; each
test on a folder and on a real S3 server's bucket."""

import pytest

from sync.blobs import BlobStore, blob_key, identify, webp_size
from sync.errors import (
    BadRequest,
    Conflict,
    TooLarge,
    Unavailable,
    Unprocessable,
    UnsupportedMedia,
)
from sync.shelf import open_shelf
from tests import images
from tests.images import sha


@pytest.fixture
def store(tmp_path, blobs_where) -> BlobStore:
    shelf = None
    if blobs_where:
        shelf = open_shelf(blobs_where["blobs"], endpoint=blobs_where["s3_endpoint"], region=blobs_where["s3_region"],
                           access_key_id=blobs_where["s3_access_key_id"],
                           secret_access_key=blobs_where["s3_secret_access_key"])
    return BlobStore(tmp_path / "blobs", max_bytes=2_000_000, shelf=shelf)


def upload(store: BlobStore, data: bytes, shop: int = 1, offset: int = 0, length: int | None = None, chunk: int = 4096):
    up = store.begin(shop, sha(data), offset, length, None)
    for i in range(offset, len(data), chunk):
        up.write(data[i:i + chunk])
    return up.finish()


@pytest.mark.parametrize(("make", "media_type"), [
    (images.jpeg, "image/jpeg"), (lambda: images.jpeg_with(icc=True), "image/jpeg"),
    (lambda: images.noise_png(5000), "image/png"), (images.webp, "image/webp"),
])
def test_an_image_is_kept_byte_for_byte(store, make, media_type):
    data = make()
    info = upload(store, data)
    assert (info.sha256, info.size, info.media_type) == (sha(data), len(data), media_type)
    assert store.read(sha(data)) == data  # never re-encoded: what was checked is what is kept
    assert list(store.partials.iterdir()) == []


@pytest.mark.parametrize(("data", "what"), [
    (images.png_with_exif(), "EXIF"),
    (images.png_with_text(), "a PNG text chunk"),
    (images.jpeg_with(exif=True), "EXIF"),
    (images.jpeg_with(xmp=True), "XMP"),
    (images.jpeg_with(comment=b"card 4111 1111 1111 1111"), "a JPEG comment"),
    (images.webp_with_exif(), "EXIF"),
])
def test_a_photo_carrying_text_metadata_is_refused(store, data, what):
    with pytest.raises(Unprocessable) as refused:
        upload(store, data)
    assert refused.value.message.startswith(f"photo: it carries text metadata ({what})")
    assert store.read(sha(data)) is None and list(store.partials.iterdir()) == []


def test_a_broken_upload_resumes_from_the_offset_held(store):
    data = images.noise_png(300_000)
    half = len(data) // 2
    first = store.begin(1, sha(data), 0, len(data), None)
    first.write(data[:half])
    assert not first.complete
    first.keep()  # the connection broke here
    assert store.offset(1, sha(data)) == half
    with pytest.raises(Conflict) as error:
        store.begin(1, sha(data), 0, len(data), None)
    assert error.value.headers == {"Upload-Offset": str(half), "Upload-Complete": "?0"}
    info = upload(store, data, offset=half, length=len(data))
    assert store.read(info.sha256) == data
    assert store.held() == [sha(data)]


@pytest.mark.parametrize(("data", "name", "refusal", "message"), [
    (images.jpeg(), "0" * 64, Unprocessable, "hash mismatch: the bytes received hash to"),
    (b"%PDF-1.7 not a photo", None, UnsupportedMedia, "not an image: only JPEG, PNG or WebP images are accepted"),
    (images.gif(), None, UnsupportedMedia, "a GIF image: only JPEG, PNG or WebP images are accepted"),
    (images.bomb_png(), None, Unprocessable,
     "decompression bomb refused: 8000×6000 pixels is over the 40-megapixel limit"),
])
def test_a_bad_blob_is_refused_and_nothing_kept(store, data, name, refusal, message):
    name = name or sha(data)
    up = store.begin(1, name, 0, None, None)
    up.write(data)
    with pytest.raises(refusal) as error:
        up.finish()
    assert error.value.message.startswith(message)
    assert store.read(name) is None and store.held() == []
    assert list(store.partials.iterdir()) == []


def test_a_webp_too_large_is_refused_from_its_header(tmp_path):
    data = images.webp(33, 17)
    assert webp_size(data[:30]) == (33, 17)
    (tmp_path / "x.webp").write_bytes(data)
    with pytest.raises(Unprocessable, match="33×17 pixels"):
        identify(tmp_path / "x.webp", max_pixels=500)


def test_over_the_cap_while_streaming_deletes_the_partial(store):
    data = images.noise_png(2_500_000)
    up = store.begin(1, sha(data), 0, None, None)
    with pytest.raises(TooLarge):
        for i in range(0, len(data), 65536):
            up.write(data[i:i + 65536])
    assert list(store.partials.iterdir()) == []


@pytest.mark.parametrize(("offset", "length", "announced", "refusal"), [
    (0, 3_000_000, None, TooLarge),
    (0, None, 3_000_000, TooLarge),
    (0, 100, 200, BadRequest),
])
def test_sizes_are_checked_before_reading(store, offset, length, announced, refusal):
    with pytest.raises(refusal):
        store.begin(1, "a" * 64, offset, length, announced)


def test_a_shelf_that_fails_keeps_the_checked_bytes_for_a_resume(tmp_path):
    store = BlobStore(tmp_path / "blobs", max_bytes=2_000_000)
    data = images.jpeg()
    blocker = store.shelf.path(blob_key(sha(data))).parent
    blocker.write_bytes(b"")  # a file where the blob's folder must go: the shelf cannot take it
    with pytest.raises(Unavailable) as error:
        upload(store, data)
    assert error.value.headers["Upload-Offset"] == str(len(data))
    assert store.offset(1, sha(data)) == len(data)  # verified, and kept
    blocker.unlink()  # the shelf is back
    info = store.begin(1, sha(data), len(data), None, None).finish()  # the resume: an empty body
    assert (info.size, store.read(sha(data))) == (len(data), data)
    assert list(store.partials.iterdir()) == []
