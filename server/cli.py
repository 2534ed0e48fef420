"""The `posaid` command: serve the app, check the content, manage shops, codes and devices.

Every refusal (the sync/errors.py family, a content fault) becomes one line on stderr and exit
status 1, in one place: the `Posaid` group, which every command runs inside.
"""

import errno
import socket
import sys
from pathlib import Path

import click

from content.load import DEFAULT_ROOT, ContentError, load
from server.settings import Settings
from sync.errors import BadRequest, NotFound, PosaidError


class Posaid(click.Group):
    """The command group that turns every refusal into one clear line, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PosaidError as exc:
            raise click.ClickException(exc.message) from None
        except ContentError as exc:
            more = f" (and {len(exc.problems) - 1} more: run `posaid content check`)" if len(exc.problems) > 1 else ""
            raise click.ClickException(f"content: {exc.problems[0]}{more}") from None


def _fail(message: str) -> None:
    """Stop with one clear line on stderr and a non-zero exit."""
    raise BadRequest(message)


@click.group(cls=Posaid)
def main() -> None:
    """posaid: offline first aid for POS terminal errors."""


def _check_data_dir(data: Path) -> None:
    try:
        data.mkdir(parents=True, exist_ok=True)
        probe = data / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        _fail(f"--data {data}: cannot write there ({exc.strerror})")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. Without it a response written in two parts waits on the
    # client's delayed ACK (~40 ms), and the service worker's precache fetches one URL at a time.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            _fail(f"--port {port}: {host}:{port} is already in use (another posaid or program is on it)")
        _fail(f"--host {host} --port {port}: cannot listen there ({exc.strerror})")
    sock.listen(128)
    return sock


@main.command()
@click.option("--host", help="Address to listen on [POSAID_HOST; 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [POSAID_PORT; 8000].")
@click.option("--data", help="Folder for the database and blobs [POSAID_DATA; ./var].")
@click.option("--role", type=click.Choice(["hq", "hub"]), help="hq (head office) or hub (shop) [POSAID_ROLE].")
@click.option("--certfile", help="TLS certificate, PEM [POSAID_CERTFILE]; phones need HTTPS off localhost.")
@click.option("--keyfile", help="TLS private key, PEM [POSAID_KEYFILE].")
@click.option("--content", help="Content folder [POSAID_CONTENT; the bundled content].")
@click.option("--demo/--no-demo", default=None, help="Create a demo shop to try everything [POSAID_DEMO].")
@click.option("--max-blob-bytes", type=int, help="Largest photo a device may upload [POSAID_MAX_BLOB_BYTES; 15 MiB].")
def serve(**flags) -> None:
    """Start the server."""
    import uvicorn

    from server.app import create_app
    from server.demo import ensure_demo

    settings = Settings.load(**flags)
    for name in ("certfile", "keyfile"):
        path = getattr(settings, name)
        if path and not Path(path).is_file():
            _fail(f"--{name} {path}: no such file")
    _check_data_dir(Path(settings.data))
    app = create_app(settings)
    sock = _bind(settings.host, settings.port)
    scheme = "https" if settings.certfile else "http"
    url = f"{scheme}://{settings.host}:{sock.getsockname()[1]}/"
    if settings.demo:
        for line in ensure_demo(app.state.store, url):
            click.echo(line)
    click.echo(f"posaid ({settings.role}) serving {url} — open it in a browser; data in {settings.data}")
    config = uvicorn.Config(
        app,
        workers=1,
        ssl_certfile=settings.certfile,
        ssl_keyfile=settings.keyfile,
        log_level="warning",
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])


@main.group()
def content() -> None:
    """Work with the content files."""


@content.command("check")
@click.option("--content", "root", type=click.Path(path_type=Path), default=None, help="Content folder to check.")
def content_check(root: Path | None) -> None:
    """Validate every content file and reference; exit non-zero naming each fault."""
    root = root or DEFAULT_ROOT
    if not root.is_dir():
        _fail(f"--content {root}: no such folder")
    try:
        library = load(root)
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(
        f"content ok: {len(library.codes)} codes, {len(library.flows)} flows, "
        f"{len(library.checklists)} checklists, version {library.version}"
    )


DATA_OPTION = click.option("--data", help="Folder for the database and blobs [POSAID_DATA; ./var].")


def _store(data: str | None):
    """The database of the data folder `serve` would use (safe beside a running server: WAL)."""
    from server.store import Store

    settings = Settings.load(data=data)
    _check_data_dir(Path(settings.data))
    return Store(Path(settings.data) / "posaid.db", settings.busy_timeout_ms)


@main.group()
def shops() -> None:
    """Shops: each has its devices, terminals, staff and records."""


@shops.command("add")
@click.argument("name")
@DATA_OPTION
def shops_add(name: str, data: str | None) -> None:
    """Add a shop called NAME; prints its id."""
    from server import writes
    from server.store import now

    if not name.strip():
        _fail("NAME: give the shop a name")
    with _store(data).write() as db:
        shop_id = writes.add_shop(db, name.strip(), now())
    click.echo(shop_id)


@shops.command("list")
@DATA_OPTION
def shops_list(data: str | None) -> None:
    """Every shop: id, name and its enrolled (not revoked) devices."""
    from server import queries

    with _store(data).read() as db:
        listed = queries.shops(db)
    for shop in listed:
        click.echo(f"{shop.id}\t{shop.name}\t{shop.devices} device{'s' if shop.devices != 1 else ''}")


@main.group()
def codes() -> None:
    """One-time enrollment codes for phones and hubs."""


@codes.command("issue")
@click.argument("shop", type=int)
@click.option("--base", default="http://127.0.0.1:8000", show_default=True, help="The server's address as phones reach it.")
@click.option("--hours", type=click.FloatRange(min=0, min_open=True), default=24, show_default=True, help="How long the code works.")
@click.option("--hub", is_flag=True, help="The code enrolls a shop's hub (which forwards its phones' records), not a phone.")
@DATA_OPTION
def codes_issue(shop: int, base: str, hours: float, hub: bool, data: str | None) -> None:
    """Issue a one-time code for SHOP (its id) and the URL that opens the enrollment page with it."""
    from server import queries
    from server.auth import enroll_url, issue_code

    with _store(data).write() as db:
        if queries.shop(db, shop) is None:
            raise NotFound(f"SHOP {shop}: no such shop (see `posaid shops list`)")
        code, expires = issue_code(db, shop, hours, "hub" if hub else "phone")
    click.echo(f"code: {code}")
    click.echo(f"url: {enroll_url(base, code)}")
    click.echo(f"works once, until {expires}")


@main.group()
def devices() -> None:
    """Enrolled devices (phones and hubs)."""


@devices.command("list")
@click.option("--shop", type=int, help="Only this shop's devices.")
@DATA_OPTION
def devices_list(shop: int | None, data: str | None) -> None:
    """Every device: id, shop, name, when enrolled, and whether revoked."""
    from server import queries

    with _store(data).read() as db:
        listed = queries.devices(db, shop)
    for device in listed:
        state = f"revoked {device.revoked_at}" if device.revoked_at else "active"
        click.echo(f"{device.id}\tshop {device.shop_id}\t{device.name}\tenrolled {device.enrolled_at}\t{state}")


@devices.command("revoke")
@click.argument("device")
@DATA_OPTION
def devices_revoke(device: str, data: str | None) -> None:
    """Revoke DEVICE (its id): its tokens stop working at once; it can enroll again with a new code."""
    from server import queries
    from server.auth import revoke_device
    from server.store import now

    with _store(data).write() as db:
        if not queries.device_exists(db, device):
            raise NotFound(f"DEVICE {device}: no such device (see `posaid devices list`)")
        count = revoke_device(db, device, now())
    click.echo(f"revoked device {device} ({count} token{'s' if count != 1 else ''})")


@main.group()
def upstream() -> None:
    """Head office, as a hub sees it: where `posaid forward` sends what the shop's phones pushed."""


@upstream.command("enroll")
@click.argument("url")
@click.argument("code")
@click.option("--name", default="shop hub", show_default=True, help="What head office calls this hub.")
@DATA_OPTION
def upstream_enroll(url: str, code: str, name: str, data: str | None) -> None:
    """Enroll this server with head office at URL using a one-time CODE from head office."""
    from server.hub import enroll_upstream

    answer = enroll_upstream(_store(data), url, code, name)
    click.echo(f"enrolled with {url} for shop {answer.shop.id} ({answer.shop.name}); run `posaid forward`")


@main.command()
@click.option("--loop/--once", default=False, help="Keep forwarding every --interval seconds, or run once.")
@click.option("--interval", type=click.FloatRange(min=1), default=30, show_default=True, help="Seconds between rounds.")
@DATA_OPTION
def forward(loop: bool, interval: float, data: str | None) -> None:
    """Send everything the shop's phones pushed here on to head office (hub → hq)."""
    import time

    from server.hub import HubLog
    from sync.forward import ForwardError
    from sync.forward import forward as forward_events

    settings = Settings.load(data=data)
    log = HubLog(_store(data))

    def progress(report) -> None:
        click.echo(f"forwarded {report.events} events ({report.stored} stored, {report.duplicate} already there), "
                   f"{report.photos} photos; {report.remaining} to go")

    while True:
        try:
            report = forward_events(log, Path(settings.data) / "blobs", progress=progress)
        except ForwardError as exc:
            if not loop:
                raise
            click.echo(f"{exc}; trying again in {interval:g} s", err=True)
        else:
            for line in report.refused:
                click.echo(f"refused by head office: {line}", err=True)
            click.echo(f"up to date: cursor {report.cursor}")
        if not loop:
            return
        time.sleep(interval)
