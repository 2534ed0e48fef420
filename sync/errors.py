"""The one family of errors: each carries its HTTP status and a message that names what is at fault.

Raised anywhere below the routes (the sync protocol, the store, the server's own modules) and
mapped in one place per face: problem+json for the API and a page for HTML (server/errors.py),
one line on stderr for the command line (server/cli.py). It lives in sync/ because that is the
lowest layer the server and the sync code share; content/ keeps its own ContentError, which knows
nothing of HTTP.
"""


class PosaidError(Exception):
    """A refusal the caller can act on: `status` says which kind, the message says what and where."""

    status = 500

    def __init__(self, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(PosaidError):
    status = 400


class Unauthorized(PosaidError):
    status = 401


class Forbidden(PosaidError):
    status = 403


class NotFound(PosaidError):
    status = 404


class RequestTimeout(PosaidError):
    """The client stopped sending its body part-way; what came is kept where that makes sense."""

    status = 408


class Conflict(PosaidError):
    status = 409


class TooLarge(PosaidError):
    status = 413


class UnsupportedMedia(PosaidError):
    status = 415


class Unprocessable(PosaidError):
    status = 422


class TooManyRequests(PosaidError):
    status = 429


class UpstreamError(PosaidError):
    """Head office could not be reached, or answered with an error, while a hub forwarded to it."""

    status = 502


class Unavailable(PosaidError):
    """Try again shortly (the database is busy): the answer carries Retry-After."""

    status = 503

    def __init__(self, message: str, *, retry_after: int = 1, headers: dict[str, str] | None = None):
        super().__init__(message, headers={"Retry-After": str(retry_after), **(headers or {})})
