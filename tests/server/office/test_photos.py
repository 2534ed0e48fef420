"""Photos: re-encoded by the server without metadata, cached, typed from their bytes; with the
photos and the cache in the data folder and in a bucket of a real S3 server."""

import io

import pytest
from PIL import Image

from server.office.photos import reencode
from server.settings import Settings
from tests.factories import opened
from tests.fixtures import enroll, push, put_photo
from tests.images import jpeg, png_with_exif
from tests.server.office.conftest import office_of


@pytest.fixture
def settings(tmp_path, content_dir, deployment) -> Settings:
    return Settings(data=str(tmp_path / "data"), content=str(content_dir), **deployment)


def test_a_photo_is_served_reencoded_at_two_sizes(client, admin, chain):
    phone = enroll(client, chain.east, "8c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "again")
    original = jpeg(800, 600)
    digest = put_photo(client, phone, original)
    assert push(client, phone, opened(blobs=[digest], device=phone.device)) == ["stored"]
    for size, longest in (("thumb", 320), ("large", 800)):
        response = admin.get(f"/office/photos/{digest}/{size}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "private, max-age=86400"
        assert response.content != original  # made by the server, not the bytes the phone sent
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "JPEG" and max(image.size) == longest


def test_reencoding_drops_every_piece_of_metadata(tmp_path):
    source = tmp_path / "with-exif.png"
    source.write_bytes(png_with_exif(800, 600))  # a camera model and a GPS position
    data = reencode(source, 320)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (320, 240)
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    assert b"Phone Camera" not in data


def test_photos_are_cached_once_made(client, admin, chain):
    admin.get(f"/office/photos/{chain.east_photo}/thumb")
    cache = office_of(client).photos.shelf
    key = f"thumb/{chain.east_photo[:2]}/{chain.east_photo[2:]}.jpg"
    assert key in list(cache.keys())
    cache.put(key, jpeg(10, 10, (0, 0, 0)))  # served from the cache from now on
    assert Image.open(io.BytesIO(admin.get(f"/office/photos/{chain.east_photo}/thumb").content)).size == (10, 10)


def test_an_unknown_photo_or_size_is_a_404(admin, chain):
    assert admin.get(f"/office/photos/{'0' * 64}/thumb").status_code == 404
    assert admin.get(f"/office/photos/{chain.east_photo}/original").status_code == 404
    assert admin.get("/office/photos/not-a-hash/thumb").status_code == 404


def test_reencode_turns_a_photo_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° clockwise: the pixels are landscape, the photo portrait
    path = tmp_path / "p.jpg"
    Image.new("RGB", (400, 200), (255, 0, 0)).save(path, "JPEG", exif=exif)
    assert Image.open(io.BytesIO(reencode(path, 100))).size == (50, 100)
