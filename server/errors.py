"""Errors mapped in one place: problem details (RFC 9457) for the API, and for HTML a page from the
part of the site the URL belongs to (the phone app's page loads the app; another part's must not).

What is mapped: the family in sync/errors.py (each carries its status), Litestar's own HTTP
exceptions (routing, body validation), and anything else as a logged 500 without a traceback.
"""

import logging
from collections.abc import Callable, Sequence
from http import HTTPStatus

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from sync.errors import PosaidError

log = logging.getLogger("posaid")

# How a part of the site renders its error page: (request, status, message) -> HTML.
ErrorPage = Callable[[Request, int, str], str]


def wants_json(request: Request) -> bool:
    """API paths always answer JSON; elsewhere a client that asks for JSON over HTML gets it."""
    path = request.url.path
    if path.startswith(("/api/", "/healthz", "/schema")):
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def describe(exc: Exception) -> tuple[int, str, dict[str, str], object]:
    """(status, message, headers, extra) for any exception; unknown ones are logged as a 500."""
    if isinstance(exc, PosaidError):
        return exc.status, exc.message, exc.headers, None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        return 400, _field_message(exc.extra[0]), exc.headers or {}, exc.extra
    if isinstance(exc, RecursionError):  # msgspec refuses JSON nested past what it can decode
        return 400, "body: JSON nested too deeply", {}, None
    if isinstance(exc, HTTPException):
        detail = exc.detail
        if detail.startswith("JSON is malformed"):  # Litestar's words for a body it cannot parse
            detail = "body is not valid JSON: " + detail.partition(": ")[2]
        return exc.status_code, detail, exc.headers or {}, exc.extra
    log.error("unhandled error", exc_info=exc)
    return 500, "internal server error", {}, None


def _field_message(error: dict) -> str:
    """Litestar's first validation error, naming the field as msgspec does (`- at $.name`)."""
    source, key, message = error.get("source", "body"), error.get("key", ""), error.get("message", "")
    if source == "body":
        return f"body: {message}" + (f" - at `$.{key}`" if key and key != "data" else "")
    return f"{source} parameter {key}: {message}"


def exception_handler(pages: Sequence[tuple[str, ErrorPage]]) -> Callable[[Request, Exception], Response]:
    """The app's one handler: problem+json, or the error page of the first part whose prefix matches."""

    def handle(request: Request, exc: Exception) -> Response:
        status, message, headers, extra = describe(exc)
        if wants_json(request):
            body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": message}
            if extra:
                body["errors"] = extra
            return Response(body, status_code=status, media_type="application/problem+json", headers=headers)
        path = request.url.path
        render = next(render for prefix, render in pages if path == prefix or path.startswith(prefix.rstrip("/") + "/"))
        return Response(render(request, status, message), status_code=status, media_type=MediaType.HTML,
                        headers=headers)

    return handle
