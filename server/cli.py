"""The `posaid` command: serve the app, check the content, manage shops, codes and devices.

Every refusal (the sync/errors.py family, a content fault) becomes one line on stderr and exit
status 1, in one place: the `Posaid` group, which every command runs inside.
"""

import errno
import os
import socket
import sys
from pathlib import Path

import click

from content.load import DEFAULT_ROOT, ContentError, load
from server.office.cli import COMMANDS as OFFICE_COMMANDS
from server.settings import Settings
from server.tls import tls, with_certificate
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


main.add_command(tls)
for office_command in OFFICE_COMMANDS:  # users, terminals, staff (server/office/cli.py)
    main.add_command(office_command)


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
@click.option("--database", help="postgresql://user@host/db for head office [POSAID_DATABASE; the SQLite file in DATA].")
@click.option("--blobs", help="Where photos are kept: a folder, or s3://bucket/prefix [POSAID_BLOBS; DATA/blobs].")
@click.option("--s3-endpoint", help="An S3-compatible server's URL [POSAID_S3_ENDPOINT; AWS]; keys from "
              "POSAID_S3_ACCESS_KEY_ID and POSAID_S3_SECRET_ACCESS_KEY or the usual AWS variables.")
@click.option("--s3-region", help="The bucket's region [POSAID_S3_REGION; AWS_REGION].")
@click.option("--max-blob-bytes", type=int, help="Largest photo a device may upload [POSAID_MAX_BLOB_BYTES; 15 MiB].")
@click.option("--max-format", type=int, help="Newest event format accepted [POSAID_MAX_FORMAT; the newest known].")
@click.option("--public-url", help="The address phones and QR codes use, e.g. https://hq.example.cn/ [POSAID_PUBLIC_URL].")
@click.option("--timezone", help="Head office's time zone for its pages [POSAID_TIMEZONE; Asia/Shanghai].")
@click.option("--smtp-host", help="SMTP server alert emails go through [POSAID_SMTP_HOST; none: no email].")
@click.option("--smtp-port", type=int, help="The SMTP server's port [POSAID_SMTP_PORT; 25].")
@click.option("--smtp-sender", help="The From of alert emails [POSAID_SMTP_SENDER; posaid@localhost].")
def serve(**flags) -> None:
    """Start the server."""
    import uvicorn

    from server.app import create_app
    from server.demo import ensure_demo

    settings = with_certificate(Settings.load(**flags))  # the hub's own, from `posaid tls init`
    for name in ("certfile", "keyfile"):
        path = getattr(settings, name)
        if path and not Path(path).is_file():
            _fail(f"--{name} {path}: no such file")
    _check_data_dir(Path(settings.data))
    restarting = []  # a hub's content came down: serve the app built anew, on the same socket

    def restart() -> None:
        restarting.append(True)
        server.should_exit = True  # uvicorn finishes the requests under way, then returns

    app = create_app(settings, restart=restart)
    sock = _bind(settings.host, settings.port)
    scheme = "https" if settings.certfile else "http"
    url = f"{scheme}://{settings.host}:{sock.getsockname()[1]}/"
    if settings.demo:
        for line in ensure_demo(app.state.store, url):
            click.echo(line)
    click.echo(f"posaid ({settings.role}) serving {url} — open it in a browser; data in {settings.data}")
    while True:
        config = uvicorn.Config(
            app,
            workers=1,
            ssl_certfile=settings.certfile,
            ssl_keyfile=settings.keyfile,
            log_level="warning",
            lifespan="on",
            server_header=False,  # no header naming the software and its version to whoever asks
        )
        server = uvicorn.Server(config)
        # uvicorn closes the sockets it served; a duplicate keeps the port ours across a restart.
        server.run(sockets=[socket.socket(fileno=os.dup(sock.fileno()))])
        if not restarting:
            return
        restarting.clear()
        click.echo("content updated from head office: serving it now")
        app = create_app(settings, restart=restart)


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
    """The database `serve` would use: the data folder's (safe beside a running server: WAL), or
    PostgreSQL when POSAID_DATABASE names it."""
    from server.store import open_store

    settings = Settings.load(data=data)
    _check_data_dir(Path(settings.data))
    return open_store(settings.data, settings.database, settings.busy_timeout_ms)


@main.group()
def shops() -> None:
    """Shops: each has its devices, terminals, staff and records."""


@shops.command("add")
@click.argument("name")
@click.option("--region", help="The region the shop belongs to (regional users see their regions' shops).")
@click.option("--address")
@click.option("--acquirer-phone", help="The acquirer's support line, read out from the phones' support card.")
@click.option("--vendor-phone", help="The terminal vendor's support line.")
@DATA_OPTION
def shops_add(name: str, data: str | None, **register) -> None:
    """Add a shop called NAME; prints its id."""
    from server import writes
    from server.office.cli import actor
    from server.store import now
    from sync.pan import mask_pans

    name, register = mask_pans(name.strip()), {k: mask_pans(v.strip()) if v else None for k, v in register.items()}
    if not name:
        _fail("NAME: give the shop a name")
    with _store(data).write() as db:
        shop_id = writes.add_shop(db, name, now())
        writes.update_shop(db, shop_id, name, **register)
        writes.audit(db, now(), actor(), "shop.added", f"{shop_id} {name}", register["region"] or "")
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
@click.option("--base", help="The server's address as phones reach it [POSAID_PUBLIC_URL; http://127.0.0.1:8000].")
@click.option("--hours", type=click.FloatRange(min=0, min_open=True), default=24, show_default=True, help="How long the code works.")
@click.option("--hub", is_flag=True, help="The code enrolls a shop's hub (which forwards its phones' records), not a phone.")
@DATA_OPTION
def codes_issue(shop: int, base: str | None, hours: float, hub: bool, data: str | None) -> None:
    """Issue a one-time code for SHOP (its id) and the URL that opens the enrollment page with it."""
    from server import queries, writes
    from server.auth import enroll_url, issue_code
    from server.office.cli import actor
    from server.store import now

    base = base or Settings.load(data=data).public_url or "http://127.0.0.1:8000"
    with _store(data).write() as db:
        found = queries.shop(db, shop)
        if found is None:
            raise NotFound(f"SHOP {shop}: no such shop (see `posaid shops list`)")
        code, expires = issue_code(db, shop, hours, "hub" if hub else "phone")
        writes.audit(db, now(), actor(), "code.issued", str(shop), "hub" if hub else "phone")
    click.echo(f"code: {code}")
    click.echo(f"url: {enroll_url(base, code, found.name)}")
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
    from server import queries, writes
    from server.auth import revoke_device
    from server.office.cli import actor
    from server.store import now

    with _store(data).write() as db:
        if not queries.device_exists(db, device):
            raise NotFound(f"DEVICE {device}: no such device (see `posaid devices list`)")
        count = revoke_device(db, device, now())
        writes.audit(db, now(), actor(), "device.revoked", device, f"{count} tokens")
    click.echo(f"revoked device {device} ({count} token{'s' if count != 1 else ''})")


@main.group()
def upstream() -> None:
    """Head office, as a hub sees it: where `posaid forward` sends what the shop's phones pushed."""


@upstream.command("enroll")
@click.argument("url")
@click.argument("code")
@click.option("--name", default="shop hub", show_default=True, help="What head office calls this hub.")
@click.option("--shop", type=int, help="This hub's shop the code is for (needed when it has several).")
@DATA_OPTION
def upstream_enroll(url: str, code: str, name: str, shop: int | None, data: str | None) -> None:
    """Enroll this server with head office at URL using a one-time hub CODE from head office."""
    from server.hub import enroll_upstream

    answer = enroll_upstream(_store(data), url, code, name, shop)
    click.echo(f"enrolled with {url} for shop {answer.shop.id} ({answer.shop.name}); "
               "`posaid serve --role hub` forwards by itself")


@main.command()
@click.option("--loop/--once", default=False, help="Keep forwarding every --interval seconds, or run once.")
@click.option("--interval", type=click.FloatRange(min=1), default=30, show_default=True, help="Seconds between rounds.")
@DATA_OPTION
def forward(loop: bool, interval: float, data: str | None) -> None:
    """Send everything the shop's phones pushed here on to head office now (`serve --role hub` does it too)."""
    import time

    from server.hub import HubLog
    from sync.forward import ForwardError
    from sync.forward import forward as forward_events

    settings = Settings.load(data=data)
    log = HubLog(_store(data))
    while True:
        found = log.upstream()
        waiting = log.remaining(found[2]) if found else 0
        try:
            with click.progressbar(length=waiting, label="forwarding", show_pos=True,
                                   item_show_func=lambda report: report and _progress(report)) as bar:
                done = 0

                def progress(report) -> None:
                    nonlocal done
                    bar.update(report.events - done, report)
                    done = report.events

                report = forward_events(log, Path(settings.data) / "blobs", timeout=settings.upstream_timeout_seconds,
                                        progress=progress)
        except ForwardError as exc:
            if not loop:
                raise
            click.echo(f"{exc}; trying again in {interval:g} s", err=True)
        else:
            for line in report.refused:
                click.echo(f"refused by head office: {line}", err=True)
            click.echo(f"forwarded {report.events} events ({report.stored} stored, {report.duplicate} already there), "
                       f"{report.photos} photos, {_size(report.bytes)}; up to date at cursor {report.cursor}")
        if not loop:
            return
        time.sleep(interval)


def _progress(report) -> str:
    return f"{report.photos} photos, {_size(report.bytes)}"


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return ""


@main.command()
@DATA_OPTION
def status(data: str | None) -> None:
    """What this hub has still to forward, how its link to head office is, what head office refused."""
    from server import queries

    with _store(data).read() as db:
        found = queries.hub_status(db)
    if found is None:
        _fail("this server is not enrolled with head office (posaid upstream enroll URL CODE)")
    click.echo(f"head office: {found.url} (link {found.link})")
    click.echo(f"waiting: {found.events_waiting} events, {found.photos_waiting} photos ({_size(found.bytes_waiting)})")
    if found.held_back:
        click.echo(f"held back: {found.held_back} events in a format head office does not accept yet")
    click.echo(f"last success: {found.last_forward_at or 'never'}; last attempt: {found.last_attempt_at or 'never'}")
    if found.last_error:
        click.echo(f"last error: {found.last_error} ({found.last_error_at})")
    click.echo(f"refused by head office: {len(found.refused)}")
    for event_id, reason, at in found.refused:
        click.echo(f"  {event_id}: {reason} ({at})")


LOG_OPTIONS = [
    DATA_OPTION,
    click.option("--database", help="postgresql://… [POSAID_DATABASE; the SQLite file in DATA]."),
    click.option("--blobs", help="A folder or s3://bucket/prefix [POSAID_BLOBS; DATA/blobs]; S3 keys from "
                 "POSAID_S3_* or the usual AWS variables."),
]


def _log_options(command):
    for option in reversed(LOG_OPTIONS):
        command = option(command)
    return command


def _deployment(data: str | None, database: str | None, blobs: str | None):
    from server.app import shelves
    from server.store import open_store

    settings = Settings.load(data=data, database=database, blobs=blobs)
    _check_data_dir(Path(settings.data))
    return settings, open_store(settings.data, settings.database, settings.busy_timeout_ms), shelves(settings)[0]


@main.command("export-log")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@_log_options
def export_log(archive: Path, data: str | None, database: str | None, blobs: str | None) -> None:
    """Write this head office's log, register, people and photos to ARCHIVE (a tar file), to move it."""
    from server.transfer import export_log as export

    settings, store, blob_store = _deployment(data, database, blobs)
    partial = archive.with_name(f".{archive.name}.partial")
    with open(partial, "wb") as target:
        counts = export(store, blob_store, target, Path(settings.data))
    partial.replace(archive)  # a half-written archive never carries the final name
    click.echo(f"wrote {archive}: {counts['events']} events, {counts['shops']} shops, {counts['photos']} photos")


@main.command("import-log")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_log_options
def import_log(archive: Path, data: str | None, database: str | None, blobs: str | None) -> None:
    """Read ARCHIVE (from export-log) into this new, empty head office; the views are rebuilt from the log."""
    from server.transfer import import_log as load

    _, store, blob_store = _deployment(data, database, blobs)
    with open(archive, "rb") as source:
        counts = load(store, blob_store, source)
    click.echo(f"read {archive}: {counts.get('events', 0)} events, {counts.get('shops', 0)} shops, "
               f"{counts.get('photos', 0)} photos; the views are rebuilt")
