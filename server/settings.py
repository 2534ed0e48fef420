"""The server's settings: one Struct, filled from POSAID_* environment variables and flags."""

import os
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from sync.errors import BadRequest

Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
Bytes = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]
Millis = Annotated[int, msgspec.Meta(ge=0)]


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
    max_blob_bytes: Bytes = 15 * 1024 * 1024  # the largest photo a device may upload
    body_idle_seconds: Seconds = 30  # an upload that sends nothing this long has stalled
    busy_timeout_ms: Millis = 5000  # how long a write waits for another process's lock before a 503

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
        return settings


def _name_the_setting(message: str) -> str:
    # msgspec says "... - at `$.port`"; a user knows the flag and the variable, not the path.
    if " - at `$." in message:
        text, _, field = message.rpartition(" - at `$.")
        field = field.rstrip("`")
        return f"--{field.replace('_', '-')} / POSAID_{field.upper()}: {text}"
    return message
