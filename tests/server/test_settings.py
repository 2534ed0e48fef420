"""Settings come from defaults, POSAID_* variables and flags, in that order."""

import pytest

from server.settings import Settings, SettingsError


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
