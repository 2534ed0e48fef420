"""The app factory: settings in, a Litestar app out."""

from pathlib import Path

import msgspec
from litestar import Litestar, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router

from content.load import DEFAULT_ROOT, Library, load
from server import api, pages
from server.db import Store
from server.errors import handle_exception
from server.headers import add_security_headers
from server.openapi import COMPONENTS
from server.settings import Settings
from server.site import STATIC, build_site, environment
from sync.blobs import BlobStore


class Health(msgspec.Struct):
    status: str
    role: str
    content_version: str
    app_version: str


@get("/healthz", sync_to_thread=False)
def healthz(state: State) -> Health:
    """Liveness: the server answers, with the role and the versions it serves."""
    return Health(
        status="ok",
        role=state.settings.role,
        content_version=state.library.version,
        app_version=state.site.version,
    )


def create_app(settings: Settings, library: Library | None = None) -> Litestar:
    """Build the app: load and check content, open and migrate the database, render the pages."""
    if library is None:
        library = load(Path(settings.content) if settings.content else DEFAULT_ROOT)
    data = Path(settings.data)
    data.mkdir(parents=True, exist_ok=True)
    store = Store(data / "posaid.db")
    blobs = BlobStore(data / "blobs", settings.max_blob_bytes)
    env = environment()
    site = build_site(library, env)
    state = State(
        {"settings": settings, "library": library, "store": store, "blobs": blobs, "env": env, "site": site}
    )
    return Litestar(
        route_handlers=[
            healthz,
            api.router,
            pages.page,
            pages.service_worker,
            create_static_files_router(
                path="/static", directories=[STATIC], include_in_schema=False, send_as_attachment=False
            ),
        ],
        state=state,
        exception_handlers={Exception: handle_exception},
        before_send=[add_security_headers],
        compression_config=CompressionConfig(backend="gzip", minimum_size=512),
        openapi_config=OpenAPIConfig(
            title="posaid",
            version="1",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
            components=COMPONENTS,
        ),
        on_shutdown=[store.close],
        logging_config=None,
    )
