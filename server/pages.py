"""Routes for the PWA: the prerendered pages and the service worker."""

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

from litestar.datastructures import State

from server.site import Page


def _serve(request: Request, page: Page, cache: str = "no-cache") -> Response:
    headers = {"etag": page.etag, "cache-control": cache}
    if request.headers.get("if-none-match") == page.etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(page.body, media_type=page.media_type, headers=headers)


@get(["/", "/zh", "/en", "/zh/{rest:path}", "/en/{rest:path}"], include_in_schema=False, sync_to_thread=False)
def page(request: Request, state: State) -> Response:
    """A page of the app, in the language its path starts with."""
    found = state.site.pages.get(request.url.path.rstrip("/") or "/")
    if found is None:
        raise NotFoundException(f"no page at {request.url.path}")
    return _serve(request, found)


@get("/sw.js", include_in_schema=False, sync_to_thread=False)
def service_worker(request: Request, state: State) -> Response:
    """The service worker; never cached by HTTP, so the browser always sees a new version."""
    return _serve(request, state.site.service_worker, cache="no-cache, no-store")
