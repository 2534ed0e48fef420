"""Fixtures that build real things in tmp dirs: content copies, apps, server processes, a browser."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from litestar.testing import TestClient

from content.load import DEFAULT_ROOT
from server.app import create_app
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled content, safe to edit."""
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_ROOT, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture
def settings(tmp_path: Path, content_dir: Path) -> Settings:
    return Settings(data=str(tmp_path / "data"), content=str(content_dir))


@pytest.fixture
def client(settings: Settings):
    """Litestar's test client over an app with its own database and content."""
    with TestClient(app=create_app(settings)) as client:
        yield client


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


@pytest.fixture
def live_server(tmp_path: Path, content_dir: Path):
    server = LiveServer(tmp_path / "data", content_dir, free_port()).start()
    yield server
    server.stop()


def chromium_path() -> str:
    path = os.environ.get("POSAID_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser context (360 px wide), closed after the test."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield context
    context.close()
