"""The app factory: settings in, a Litestar app out.

What handlers need (the store, the blob store, the settings, the content, the rendered site) is
made here once and handed to them by dependency injection, by name: a handler asks for `store`
and gets it, so no handler reaches into the app's state. The same objects sit in `app.state`
for what runs beside the handlers (the CLI's demo shop, tests).
"""

from pathlib import Path

import msgspec
from litestar import Litestar, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router

from content.load import DEFAULT_ROOT, Library, load
from server import api, pages
from server.errors import exception_handler
from server.headers import add_security_headers
from server.limits import Limits
from server.openapi import COMPONENTS
from server.settings import Settings
from server.site import STATIC, Site, build_site, environment
from server.store import Store
from sync.blobs import BlobStore

OFFICE_TEMPLATES = Path(__file__).resolve().parent / "office" / "templates"


class Health(msgspec.Struct):
    status: str
    role: str
    content_version: str
    app_version: str


@get("/healthz", sync_to_thread=False)
def healthz(
    settings: NamedDependency[Settings], library: NamedDependency[Library], site: NamedDependency[Site]
) -> Health:
    """Liveness: the server answers, with the role and the versions it serves."""
    return Health(status="ok", role=settings.role, content_version=library.version, app_version=site.version)


def _provide(value) -> Provide:
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)


def create_app(settings: Settings, library: Library | None = None) -> Litestar:
    """Build the app: load and check content, open and migrate the database, render the pages."""
    if library is None:
        library = load(Path(settings.content) if settings.content else DEFAULT_ROOT)
    data = Path(settings.data)
    data.mkdir(parents=True, exist_ok=True)
    store = Store(data / "posaid.db", settings.busy_timeout_ms)
    blob_store = BlobStore(data / "blobs", settings.max_blob_bytes)
    limits = Limits(data / "limits.db")
    env = environment({pages.OFFICE: OFFICE_TEMPLATES})
    site = build_site(library, env)
    parts = {"settings": settings, "library": library, "store": store, "blob_store": blob_store, "site": site,
             "limits": limits}
    return Litestar(
        route_handlers=[
            healthz,
            api.router(store),
            *pages.routes(site),
            create_static_files_router(
                path="/static", directories=[STATIC], include_in_schema=False, send_as_attachment=False
            ),
        ],
        dependencies={name: _provide(value) for name, value in parts.items()},
        state=State(parts),
        # Most specific part of the site first: the phone app's page is the fallback.
        exception_handlers={Exception: exception_handler([
            ("/office", pages.plain_error_page(env, library)),
            ("/", pages.app_error_page(env, library)),
        ])},
        before_send=[add_security_headers],
        compression_config=CompressionConfig(backend="gzip", minimum_size=512),
        openapi_config=OpenAPIConfig(
            title="posaid",
            version="1",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
            components=COMPONENTS,
        ),
        on_shutdown=[store.close, limits.close],
        logging_config=None,
    )
