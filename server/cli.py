"""The `posaid` command: serve the app, check the content."""

import errno
import socket
import sys
from pathlib import Path

import click

from content.load import DEFAULT_ROOT, ContentError, load
from server.settings import Settings, SettingsError


def _fail(message: str) -> None:
    """Stop with one clear line on stderr and a non-zero exit, never a traceback."""
    raise click.ClickException(message)


@click.group()
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
def serve(**flags) -> None:
    """Start the server."""
    import uvicorn

    from server.app import create_app
    from server.demo import ensure_demo

    try:
        settings = Settings.load(**flags)
    except SettingsError as exc:
        _fail(str(exc))
    for name in ("certfile", "keyfile"):
        path = getattr(settings, name)
        if path and not Path(path).is_file():
            _fail(f"--{name} {path}: no such file")
    _check_data_dir(Path(settings.data))
    try:
        app = create_app(settings)
    except ContentError as exc:
        more = f" (and {len(exc.problems) - 1} more: run `posaid content check`)" if len(exc.problems) > 1 else ""
        _fail(f"content: {exc.problems[0]}{more}")
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
