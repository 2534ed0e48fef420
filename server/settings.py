"""The server's settings: one Struct, filled from POSAID_* environment variables and flags."""

import os
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from sync.errors import BadRequest
from sync.types import FORMATS

Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
Bytes = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]
Millis = Annotated[int, msgspec.Meta(ge=0)]
Count = Annotated[int, msgspec.Meta(ge=1)]
Format = Annotated[int, msgspec.Meta(ge=FORMATS[0], le=FORMATS[-1])]


class SettingsError(BadRequest):
    """A setting has a bad value; the message names the setting, its flag and its variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything the server can be told. Flags win over POSAID_* variables, which win over defaults."""

    host: str = "127.0.0.1"
    port: Port = 8000
    data: str = "var"
    role: Literal["hq", "hub"] = "hq"
    certfile: str | None = None
    keyfile: str | None = None
    content: str | None = None
    demo: bool = False
    database: str | None = None  # the SQLite file <data>/posaid.db, or postgresql://user@host/db (head office)
    blobs: str | None = None  # where photos are kept: a folder (default <data>/blobs) or s3://bucket/prefix
    s3_endpoint: str | None = None  # an S3-compatible server's URL (MinIO, SeaweedFS, Ceph); else AWS's
    s3_region: str | None = None  # else AWS_REGION / AWS_DEFAULT_REGION
    s3_access_key_id: str | None = None  # else AWS_ACCESS_KEY_ID and the other places boto3 looks
    s3_secret_access_key: str | None = None  # else AWS_SECRET_ACCESS_KEY
    max_blob_bytes: Bytes = 15 * 1024 * 1024  # the largest photo a device may upload
    body_idle_seconds: Seconds = 30  # an upload that sends nothing this long has stalled
    partial_bytes_per_device: Bytes = 64 * 1024 * 1024  # unfinished uploads one device may keep for resuming
    partial_days: Seconds = 7  # an unfinished upload untouched this many days is given up
    busy_timeout_ms: Millis = 5000  # how long a write waits for another process's lock before a 503
    public_url: str | None = None  # the address phones and QR codes use (https://hq.example.cn/); else host:port
    timezone: str = "Asia/Shanghai"  # the head office's clock: the times its pages show and its date filters
    upstream_timeout_seconds: Seconds = 30  # a hub's connect, read and write timeout towards head office
    max_format: Format = FORMATS[-1]  # the newest event format accepted; lower it to stay with older hubs/phones
    enroll_per_address: Count = 20  # enrollment attempts a minute from one address: a shop's phones, not a guesser
    enroll_per_code: Count = 10  # attempts a minute at codes starting alike: someone retrying, not guessing one
    forward_every_seconds: Seconds = 30  # a hub forwards at least this often, and at once when phones push
    forward_retry_seconds: Seconds = 5  # after a failed round, the first wait (doubling, with jitter, up to 5 min)
    alert_poll_seconds: Seconds = 1  # head office looks this often for new records to judge and alerts to send
    alert_retry_seconds: Seconds = 30  # a failed alert delivery's first wait (doubling, with jitter, up to an hour)
    alert_timeout_seconds: Seconds = 10  # a webhook's or the SMTP server's connect and read timeout
    smtp_host: str | None = None  # the SMTP server alerts are emailed through; no email without it
    smtp_port: Port = 25
    smtp_sender: str = "posaid@localhost"  # the From of alert emails
    smtp_starttls: bool = False  # upgrade the SMTP connection with STARTTLS before sending
    smtp_user: str | None = None  # sign in to the SMTP server (with smtp_password) when given
    smtp_password: str | None = None

    @classmethod
    def load(cls, env: Mapping[str, str] = os.environ, **flags) -> "Settings":
        """Settings from POSAID_<FIELD> variables in env, overridden by flags that are not None."""
        values: dict[str, object] = {}
        for field in cls.__struct_fields__:
            name = f"POSAID_{field.upper()}"
            if env.get(name, "") != "":
                values[field] = env[name]
        values.update({k: v for k, v in flags.items() if v is not None})
        try:
            settings = msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(_name_the_setting(str(exc))) from None
        if (settings.certfile is None) != (settings.keyfile is None):
            raise SettingsError("certfile and keyfile go together: give both or neither")
        if settings.database and not settings.database.startswith(("postgresql://", "postgres://")):
            raise SettingsError("--database / POSAID_DATABASE: give a postgresql://… URL, or leave it out for the "
                                "SQLite file in --data")
        if settings.role == "hub" and settings.database:
            raise SettingsError("--database / POSAID_DATABASE: a hub keeps its records in SQLite in its data folder; "
                                "PostgreSQL is for head office")
        if settings.role == "hub" and (settings.blobs or "").startswith("s3://"):
            raise SettingsError("--blobs / POSAID_BLOBS: a hub keeps its photos on its own disk, where its forwarder "
                                "reads them; s3:// is for head office")
        return settings


def _name_the_setting(message: str) -> str:
    # msgspec says "... - at `$.port`"; a user knows the flag and the variable, not the path.
    if " - at `$." in message:
        text, _, field = message.rpartition(" - at `$.")
        field = field.rstrip("`")
        return f"--{field.replace('_', '-')} / POSAID_{field.upper()}: {text}"
    return message
