"""Routes for the PWA: its prerendered pages, the service worker, and its error page.

The routes name exactly the pages the site rendered, so the app claims only its own paths and
every other URL is left to the parts of the site that own it.
"""

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from content.load import Library
from server.errors import ErrorPage
from server.site import Page, Site, render

OFFICE = "office"  # the prefix of the office's templates (server/office/templates)


def _serve(request: Request, page: Page, cache: str = "no-cache") -> Response:
    headers = {"etag": page.etag, "cache-control": cache}
    if request.headers.get("if-none-match") == page.etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(page.body, media_type=page.media_type, headers=headers)


def routes(site: Site) -> list[HTTPRouteHandler]:
    """The app's page route (one handler for every page the site rendered) and its service worker."""

    @get(sorted(site.pages), include_in_schema=False, sync_to_thread=False)
    def page(request: Request, site: NamedDependency[Site]) -> Response:
        """A page of the app, in the language its path starts with."""
        return _serve(request, site.pages[request.url.path.rstrip("/") or "/"])

    @get(sorted(site.static), include_in_schema=False, sync_to_thread=False)
    def static_file(request: Request, site: NamedDependency[Site]) -> Response:
        """A file of the app; kept a year when its URL names its revision (?v=, as pages ask)."""
        file = site.static[request.url.path]
        fresh = request.query_params.get("v") == file.revision
        return _serve(request, file, cache="public, max-age=31536000, immutable" if fresh else "no-cache")

    @get("/sw.js", include_in_schema=False, sync_to_thread=False)
    def service_worker(request: Request, site: NamedDependency[Site]) -> Response:
        """The service worker; never cached by HTTP, so the browser always sees a new version."""
        return _serve(request, site.service_worker, cache="no-cache, no-store")

    return [page, static_file, service_worker]


def _lang(path: str) -> str:
    return "en" if path == "/en" or path.startswith("/en/") else "zh"


def _message(library: Library, lang: str, status: int, detail: str) -> str:
    """What a person reads: 404s and 500s in the site's own words, other refusals as they came."""
    key = "error.not_found" if status == 404 else "error.internal" if status >= 500 else None
    return getattr(library.strings[key], lang) if key else detail


def app_error_page(env, library: Library) -> ErrorPage:
    """The phone app's error page, in the language of the URL."""

    def render_error(request: Request, status: int, message: str) -> str:
        path, lang = request.url.path, _lang(request.url.path)
        return render(env, library, lang, path, "error.html", status=status,
                      message=_message(library, lang, status, message))

    return render_error

