"""What the browser benchmarks share: a real server process, Chromium, an installed app; the build
before a change, served beside this one; a proxy that counts the bytes on the wire."""

import argparse
import io
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from _proxy import Proxy
from _server import ROOT, Server, free_port

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    path = os.environ.get("POSAID_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise SystemExit("Chromium is missing: install Debian's chromium (apt-get install chromium)")
    return path


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=chromium(), headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def server_and_browser():
    """A fresh `posaid serve` on a free port and a headless Chromium; both stopped afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "data")
        try:
            with browser() as launched:
                yield server, launched
        finally:
            server.stop()


CACHED = """async (expected) => {
    let cached = 0;
    for (const key of await caches.keys()) cached += (await (await caches.open(key)).keys()).length;
    return cached >= expected;
}"""


def wait_offline_ready(page, timeout: float = 60) -> None:
    """Until every URL the service worker lists is in its cache (the app then works offline).
    Polled from here: Playwright's wait_for_function takes an async predicate's promise as true."""
    page.evaluate("navigator.serviceWorker.ready")
    expected = page.evaluate("async () => (await (await fetch('/sw.js')).text()).match(/\"url\":/g).length")
    deadline = time.monotonic() + timeout
    while not page.evaluate(CACHED, expected):
        if time.monotonic() > deadline:
            raise SystemExit("the service worker did not cache every URL it lists")
        time.sleep(0.05)


BEFORE = "4f9cdee"  # the last commit before issue 10 (the shop floor, tried as a new user would)


def before_revision(doc: str) -> str:
    """The --before revision a benchmark compares with (the build before issue 10 unless told)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="the git revision to measure beside this build")
    return parser.parse_args().before


@contextmanager
def build_at(revision: str):
    """The repository's files at a revision (git archive), in a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", "--format=tar", revision], cwd=ROOT, capture_output=True, check=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


class Served:
    """`python -m server serve` of the build in root (this one, or one from build_at)."""

    def __init__(self, root: Path, data: Path):
        self.root, self.data, self.port = root, data, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "POSAID_DEMO": "", "PYTHONPATH": str(root)}
        self.process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--data", str(data), "--port",
                                         str(self.port)], cwd=root, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{root}: server did not start: {self.process.stderr.read().decode()}") from None
                time.sleep(0.1)

    def posaid(self, *args: str) -> str:
        return subprocess.run([sys.executable, "-m", "server", *args, "--data", str(self.data)], cwd=self.root,
                              env={**os.environ, "PYTHONPATH": str(self.root)}, check=True, capture_output=True,
                              text=True).stdout

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class _Counted:
    """A socket whose received bytes are added to counter.<side>."""

    def __init__(self, sock: socket.socket, counter: "ByteCounter", side: str):
        self.sock, self.counter, self.side = sock, counter, side

    def recv(self, size: int) -> bytes:
        chunk = self.sock.recv(size)
        with self.counter.count_lock:
            setattr(self.counter, self.side, getattr(self.counter, self.side) + len(chunk))
        return chunk

    def __getattr__(self, name):
        return getattr(self.sock, name)


class ByteCounter(Proxy):
    """The fault tests' proxy, passing everything, counting every byte each way (headers and all)."""

    def __init__(self, port: int):
        self.sent = self.received = 0  # bytes the server sent, and received
        self.count_lock = threading.Lock()
        super().__init__(port)

    def _pump(self, source: socket.socket, sink: socket.socket, budget: list[int] | None) -> None:
        # The client's side is the one with a budget: what comes from it, the server received.
        super()._pump(_Counted(source, self, "received" if budget is not None else "sent"), sink, budget)


__all__ = ["ROOT", "ByteCounter", "Served", "before_revision", "browser", "build_at", "server_and_browser",
           "wait_offline_ready"]
