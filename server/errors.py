"""Errors mapped in one place: problem details (RFC 9457) for the API, a friendly page for HTML."""

import logging
from http import HTTPStatus

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException

from server.site import render

log = logging.getLogger("posaid")


def wants_json(request: Request) -> bool:
    """API paths always answer JSON; elsewhere a client that asks for JSON over HTML gets it."""
    path = request.url.path
    if path.startswith(("/api/", "/healthz", "/schema")):
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def handle_exception(request: Request, exc: Exception) -> Response:
    """Turn any exception into a 4xx/5xx answer the caller can read; never a traceback."""
    if isinstance(exc, HTTPException):
        status, detail, extra = exc.status_code, exc.detail, exc.extra
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        status, detail, extra = 500, "internal server error", None
    headers = getattr(exc, "headers", None) or {}
    if wants_json(request):
        body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
        if extra:
            body["errors"] = extra
        return Response(body, status_code=status, media_type="application/problem+json", headers=headers)
    lang = "en" if request.url.path.startswith("/en") else "zh"
    state = request.app.state
    key = "error.not_found" if status == 404 else "error.internal" if status >= 500 else None
    message = getattr(state.library.strings[key], lang) if key else detail
    html = render(state.env, state.library, lang, request.url.path, "error.html", status=status, message=message)
    return Response(html, status_code=status, media_type=MediaType.HTML, headers=headers)
