"""Settings come from defaults, POSAID_* variables and flags, in that order."""

import pytest

from server.app import shelves
from server.settings import Settings, SettingsError
from sync.errors import BadRequest


def test_defaults():
    assert Settings.load(env={}) == Settings(host="127.0.0.1", port=8000, data="var", role="hq")


def test_environment_then_flags():
    env = {"POSAID_PORT": "9000", "POSAID_ROLE": "hub", "POSAID_DATA": "/srv/posaid", "OTHER": "x"}
    assert Settings.load(env=env) == Settings(port=9000, role="hub", data="/srv/posaid")
    assert Settings.load(env=env, port=9100, role=None).port == 9100


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"POSAID_PORT": "eighty"}, "--port / POSAID_PORT: Expected `int`"),
        ({"POSAID_PORT": "70000"}, "--port / POSAID_PORT: Expected `int` <= 65535"),
        ({"POSAID_ROLE": "boss"}, "--role / POSAID_ROLE: Invalid enum value 'boss'"),
        ({"POSAID_CERTFILE": "cert.pem"}, "certfile and keyfile go together"),
        ({"POSAID_ROLE": "hub", "POSAID_BLOBS": "s3://photos/shop"}, "--blobs / POSAID_BLOBS: a hub keeps its photos"),
    ],
)
def test_bad_values_name_the_setting(env, message):
    with pytest.raises(SettingsError) as error:
        Settings.load(env=env)
    assert str(error.value).startswith(message)


def test_blob_cap_from_the_environment():
    assert Settings.load(env={}).max_blob_bytes == 15 * 1024 * 1024
    assert Settings.load(env={"POSAID_MAX_BLOB_BYTES": "60000000"}).max_blob_bytes == 60_000_000
    with pytest.raises(SettingsError, match="--max-blob-bytes / POSAID_MAX_BLOB_BYTES: Expected `int` >= 1"):
        Settings.load(env={"POSAID_MAX_BLOB_BYTES": "0"})


@pytest.mark.parametrize(("where", "message"), [
    ("s3://", "--blobs: 's3://' names no bucket; write s3://bucket/prefix"),
    ("s3://no-such-bucket/photos", "--blobs: s3://no-such-bucket/photos/ cannot be used: "),
])
def test_a_bucket_that_cannot_be_used_is_named_at_start(tmp_path, seaweed, where, message):
    settings = Settings(data=str(tmp_path), blobs=where, **seaweed.settings())
    with pytest.raises(BadRequest) as error:
        shelves(settings)
    assert str(error.value).startswith(message)


def test_photos_go_to_the_bucket_and_partials_stay_on_this_disk(tmp_path, seaweed):
    blobs, cache = shelves(Settings(data=str(tmp_path), blobs=seaweed.prefix(), **seaweed.settings()))
    assert blobs.shelf.describe().startswith("s3://posaid/") and blobs.partials == tmp_path / "blobs" / "partial"
    assert cache.describe() == blobs.shelf.describe() + "cache/photos/"
