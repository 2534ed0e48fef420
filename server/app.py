"""The app factory: settings in, a Litestar app out.

What handlers need (the store, the blob store, the settings, the content, the rendered site) is
made here once and handed to them by dependency injection, by name: a handler asks for `store`
and gets it, so no handler reaches into the app's state. The same objects sit in `app.state`
for what runs beside the handlers (the CLI's demo shop, tests).
"""

from collections.abc import Callable
from pathlib import Path

import msgspec
from litestar import Litestar, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router

from content.load import DEFAULT_ROOT, Library, load
from server import api, certificate, pages
from server.errors import exception_handler
from server.headers import security_headers
from server.hub import Forwarder
from server.learned import Learned
from server.limits import Limits
from server.office.plugin import Office
from server.openapi import COMPONENTS, ClosedStructs
from server.settings import Settings
from server.site import STATIC, Site, build_site, environment, public_origin
from server.store import open_store, side_tables
from server.timeouts import BodyTimeout
from sync.blobs import BlobStore
from sync.shelf import Bucket, Folder, Shelf, open_shelf
from sync.types import ContentFiles

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


def content_root(settings: Settings) -> Path:
    """Where the content comes from: the --content folder; for a hub, what it brought down from
    head office (data/content) once it has; else the content bundled with posaid."""
    if settings.content:
        return Path(settings.content)
    brought_down = Path(settings.data) / "content"
    return brought_down if settings.role == "hub" and brought_down.is_dir() else DEFAULT_ROOT


def content_files(root: Path, version: str) -> ContentFiles:
    return ContentFiles(version=version, files={
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8") for path in sorted(root.rglob("*.toml"))
    })


def shelves(settings: Settings) -> tuple[BlobStore, Shelf]:
    """The blob store and the shelf of the office's re-encoded photos: folders under --data, or a
    bucket (--blobs s3://bucket/prefix; partial uploads stay on this machine's disk)."""
    data = Path(settings.data)
    where = settings.blobs or str(data / "blobs")
    if not where.startswith("s3://"):
        return BlobStore(Path(where), settings.max_blob_bytes), Folder(data / "cache" / "photos")
    bucket = open_shelf(where, endpoint=settings.s3_endpoint, region=settings.s3_region,
                        access_key_id=settings.s3_access_key_id, secret_access_key=settings.s3_secret_access_key)
    cache = Bucket(bucket.client, bucket.bucket, bucket.prefix + "cache/photos/")
    return BlobStore(data / "blobs", settings.max_blob_bytes, shelf=bucket), cache


def create_app(settings: Settings, library: Library | None = None, restart: Callable[[], None] | None = None
               ) -> Litestar:
    """Build the app: load and check content, open and migrate the database, render the pages.

    `restart`, given by `posaid serve`, builds the app anew (a hub's content came down).
    """
    root = content_root(settings)
    if library is None:
        library = load(root)
    data = Path(settings.data)
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = open_store(data, settings.database, settings.busy_timeout_ms)
    blob_store, photo_shelf = shelves(settings)
    limits = Limits(side_tables(data, "limits", store))
    env = environment({pages.OFFICE: OFFICE_TEMPLATES})
    site = build_site(library, env, public_origin(settings))
    head_office = Office(settings, store, library, env, data, photo_shelf)
    forwarder = None
    if settings.role == "hub":
        forwarder = Forwarder(store, blob_store.root, data / "content", library.version,
                              on_new_content=restart or (lambda: None), timeout=settings.upstream_timeout_seconds,
                              every=settings.forward_every_seconds, retry=settings.forward_retry_seconds)
    parts = {"settings": settings, "library": library, "store": store, "blob_store": blob_store, "site": site,
             "limits": limits, "forwarder": forwarder, "content_files": content_files(root, library.version),
             "learned": Learned(store, library)}
    return Litestar(
        route_handlers=[
            healthz,
            api.router(store),
            *pages.routes(site),
            *certificate.routes(),  # a hub's HTTPS: how phones install its authority
            create_static_files_router(
                path="/static", directories=[STATIC], include_in_schema=False, send_as_attachment=False
            ),
        ],
        dependencies={name: _provide(value) for name, value in parts.items()},
        state=State(parts),
        # Most specific part of the site first: the phone app's page is the fallback.
        exception_handlers={Exception: exception_handler([
            ("/office", head_office.error_page),
            ("/", pages.app_error_page(env, library)),
        ])},
        plugins=[head_office, ClosedStructs()],
        before_send=[security_headers(tls=settings.certfile is not None)],
        middleware=[DefineMiddleware(BodyTimeout, idle_seconds=settings.body_idle_seconds)],
        compression_config=CompressionConfig(backend="gzip", minimum_size=512),
        openapi_config=OpenAPIConfig(
            title="posaid",
            version="1",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
            components=COMPONENTS,
        ),
        on_startup=[forwarder.start] if forwarder else [],
        on_shutdown=[*([forwarder.stop] if forwarder else []), store.close, limits.close],
        logging_config=None,
    )
