"""What the tests share: devices, ids, ports, real server processes, the CLI, enrolled phones.

Pytest fixtures that build these live in conftest.py; this module holds the plain helpers.
"""

import importlib.util
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from litestar.testing import TestClient

from server import writes
from server.auth import issue_code
from server.cli import main
from server.store import now

ROOT = Path(__file__).resolve().parent.parent


def _from_benchmarks(name: str):
    """A module the benchmarks own and the tests share (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"posaid_bench{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Proxy = _from_benchmarks("_proxy").Proxy  # a TCP proxy that cuts, silences and fails links
SeaweedFS = _from_benchmarks("_seaweed").SeaweedFS  # a real S3-compatible server
ThrowawayPostgres = _from_benchmarks("_postgres").ThrowawayPostgres  # a real PostgreSQL server

DEVICE = "0b7c5a52-8d3e-4d2a-9f1e-3c1a2b4d5e6f"
OTHER_DEVICE = "5d1f0c3e-2b4a-4c6d-8e9f-0a1b2c3d4e5f"
HUB = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def add_shop(client: TestClient, name: str = "Shop A", terminals=("Till 1", "Till 2"), staff=("Wang", "Li")) -> int:
    """A shop in the app's database, with terminals (model X990) and staff; its id."""
    with client.app.state.store.write() as db:
        return writes.add_shop(db, name, now(), [(t, "X990", None) for t in terminals], staff)


def new_code(client: TestClient, shop_id: int, kind: str = "phone") -> str:
    with client.app.state.store.write() as db:
        return issue_code(db, shop_id, kind=kind)[0]


@dataclass
class Phone:
    """An enrolled device: its id, shop and token, and the headers its requests carry."""

    device: str
    shop: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def enroll(client: TestClient, shop_id: int, device: str = DEVICE, name: str = "till 1 phone", kind: str = "phone"
           ) -> Phone:
    """A device (a phone, or a hub) enrolled over the API in a shop, with a fresh code."""
    code = new_code(client, shop_id, kind)
    response = client.post("/api/v1/enroll", json={"code": code, "device": device, "name": name})
    assert response.status_code == 200, response.text
    return Phone(device=device, shop=shop_id, token=response.json()["token"])


def count(client: TestClient, table: str) -> int:
    return client.app.state.store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def table_rows(db, table: str, where: str = "") -> list[dict]:
    """A table's rows as dicts, on either engine (sqlite_utils' `.rows` is SQLite's alone)."""
    cursor = db.execute(f"SELECT * FROM {table} {where}")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def stored_bytes(client: TestClient) -> bytes:
    """Everything the server's database holds, as bytes to search: with SQLite the files themselves
    (the database, its WAL and shared memory: every copy SQLite keeps); with PostgreSQL every row
    of every table, as text."""
    store = client.app.state.store
    if store.engine == "sqlite":
        return b"".join(p.read_bytes() for p in store.path.parent.glob(f"{store.path.name}*"))
    db = store.db
    tables = [name for (name,) in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return " ".join(str(db.execute(f"SELECT string_agg(t::text, ' ') FROM {name} t").fetchone()[0] or "")
                    for name in tables).encode()


def uuid7(ms: int | None = None) -> str:
    """A UUIDv7 as the phone makes one: 48-bit milliseconds (now, or ms), then random bits."""
    ms = time.time_ns() // 1_000_000 if ms is None else ms
    value = ms << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`posaid serve` in a real process (uvicorn), stoppable, killable and restartable on the same port.

    `settings` become POSAID_* variables (body_idle_seconds=1 → POSAID_BODY_IDLE_SECONDS=1); what
    the process prints goes to a log file beside its data folder.
    """

    def __init__(self, data: Path, content: Path | None, port: int, **settings: object):
        self.data, self.content, self.port, self.settings = data, content, port, settings
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**{name: "" for name in os.environ if name.startswith("POSAID_")},
                    **{f"POSAID_{key.upper()}": str(value) for key, value in settings.items()}}
        self.log = data.parent / f"{data.name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "LiveServer":
        cmd = [sys.executable, "-m", "server", "serve", "--port", str(self.port), "--data", str(self.data)]
        if self.content:
            cmd += ["--content", str(self.content)]
        self.data.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **self.env}, stdout=log,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer /healthz within 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """kill -9: no shutdown, no flush; what was acknowledged must already be on disk."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def chromium_path() -> str:
    path = os.environ.get("POSAID_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    return path


CACHED = """async () => {
    const listed = (await (await fetch('/sw.js')).text()).match(/"url":/g).length;
    let cached = 0;
    for (const key of await caches.keys()) cached += (await (await caches.open(key)).keys()).length;
    return cached >= listed;
}"""


def wait_until(page, predicate: str, timeout: float = 30) -> None:
    """Until the async JS predicate is true, polled from here: wait_for_function takes the promise
    an async predicate returns for a truthy answer at once."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout} s: {predicate}")
        time.sleep(0.1)


def wait_offline_ready(page, timeout: float = 60) -> None:
    """Until the app works offline in both languages: every URL the service worker lists is cached
    (the installing page's language first, the other one after; pwa/templates/sw.js)."""
    page.evaluate("navigator.serviceWorker.ready")
    wait_until(page, CACHED, timeout)


def posaid(*args: str, **env: str) -> Result:
    """Run a `posaid` command in this process (click's CliRunner), with POSAID_* variables from env only."""
    clean = {name: None for name in os.environ if name.startswith("POSAID_")}
    return CliRunner().invoke(main, list(args), env={**clean, **env})


def one_line_error(result: Result) -> str:
    """The one line a failed command printed: no traceback, nothing else."""
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def cli(server: LiveServer, *args: str, check: bool = True) -> Result:
    """A `posaid` command on a running server's data folder (safe beside it: WAL), or its PostgreSQL."""
    result = posaid(*args, "--data", str(server.data),
                    **{f"POSAID_{key.upper()}": str(value) for key, value in server.settings.items()})
    assert result.exit_code == 0 or not check, result.output
    return result


def code_for(server: LiveServer, shop_name: str, *flags: str) -> str:
    """A new shop on the server and a one-time enrollment code for it (`--hub` for a hub's)."""
    shop = cli(server, "shops", "add", shop_name).stdout.strip()
    out = cli(server, "codes", "issue", shop, *flags).stdout
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("code: "))


def call(server: LiveServer, method: str, path: str, body: bytes | None = None, token: str | None = None,
         content_type: str = "application/json"):
    """One request to a running server over real HTTP; its JSON answer (raises on a 4xx/5xx)."""
    request = urllib.request.Request(server.url + path, data=body, method=method)
    request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def rows(server: LiveServer, sql: str, params=()) -> list[tuple]:
    """What a running server's database holds, or a change made behind its back (WAL: safe beside it)."""
    if server.settings.get("database"):
        import psycopg

        from server.postgres import translate

        with psycopg.connect(server.settings["database"], autocommit=True) as db:
            return [tuple(row) for row in db.execute(translate(sql) if params else sql, params or None).fetchall()]
    with sqlite3.connect(server.data / "posaid.db") as db:
        return db.execute(sql, params).fetchall()


def held_photo(server: LiveServer, sha: str) -> bytes | None:
    """A photo as a running server keeps it, in its folder or its bucket."""
    from server.app import shelves
    from server.settings import Settings

    keep = {key: value for key, value in server.settings.items() if key in Settings.__struct_fields__}
    return shelves(Settings(data=str(server.data), **keep))[0].read(sha)


# ---- head office ----------------------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


def add_user(client: TestClient, name: str, role: str = "admin", regions=(), password: str = PASSWORD) -> int:
    """A head-office user in the app's database; their id."""
    from server.office import accounts

    with client.app.state.store.write() as db:
        return accounts.add_user(db, accounts.new_user(name, role, password, regions), "test", now())


def csrf_token(client: TestClient, path: str = "/office/login") -> str:
    """The CSRF token a page's forms carry (the cookie comes with it)."""
    import re

    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD, next: str = "/office/"):
    """Sign in through the form; the response (a 303 on success)."""
    token = csrf_token(client, f"/office/login?next={next}")
    return client.post("/office/login", data={"username": name, "password": password, "next": next,
                                              "_csrf_token": token}, follow_redirects=False)


def office_post(client: TestClient, path: str, data: dict | None = None, page: str = "/office/"):
    """Send an office form as the signed-in user (with the CSRF token of `page`); the response."""
    token = csrf_token(client, page)
    return client.post(path, data={**(data or {}), "_csrf_token": token}, follow_redirects=False)


def push(client: TestClient, phone: Phone, *events: dict) -> list[str]:
    """Push events as a phone; each one's status."""
    response = client.post("/api/v1/events", json={"events": list(events)}, headers=phone.headers)
    assert response.status_code == 200, response.text
    return [result["status"] for result in response.json()["results"]]


def put_photo(client: TestClient, phone: Phone, data: bytes) -> str:
    """Upload a photo as a phone; its sha256."""
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    response = client.put(f"/api/v1/blobs/{digest}", headers=phone.headers, content=data)
    assert response.status_code in (200, 201), response.text
    return digest
