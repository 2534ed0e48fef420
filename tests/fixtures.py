"""What the tests share: devices, ids, ports, real server processes, the CLI, enrolled phones.

Pytest fixtures that build these live in conftest.py; this module holds the plain helpers.
"""

import os
import shutil
import socket
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
    """`posaid serve` in a real process (uvicorn), stoppable and restartable on the same port."""

    def __init__(self, data: Path, content: Path, port: int):
        self.data, self.content, self.port = data, content, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "LiveServer":
        cmd = [sys.executable, "-m", "server", "serve", "--port", str(self.port),
               "--data", str(self.data), "--content", str(self.content)]
        self.process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stdout.read()}")
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

    def restart(self) -> None:
        self.stop()
        self.start()


def chromium_path() -> str:
    path = os.environ.get("POSAID_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    return path


def wait_offline_ready(page):
    """Wait until the service worker is active and has precached everything."""
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function(
        """async () => {
            const keys = await caches.keys();
            for (const key of keys) {
                const cache = await caches.open(key);
                if (await cache.match('/en/codes/T2')) return true;
            }
            return false;
        }""",
        timeout=30_000,
    )


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
