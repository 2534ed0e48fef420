"""What the browser benchmarks share: a real server process, Chromium, an installed app."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from _server import ROOT, Server

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    path = os.environ.get("POSAID_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise SystemExit("Chromium is missing: install Debian's chromium (apt-get install chromium)")
    return path


@contextmanager
def server_and_browser():
    """A fresh `posaid serve` on a free port and a headless Chromium; both stopped afterwards."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "data")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium(), headless=True, args=ARGS)
                try:
                    yield server, browser
                finally:
                    browser.close()
        finally:
            server.stop()


def wait_offline_ready(page) -> None:
    """Until every URL the service worker lists is in its cache (the app then works offline)."""
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function(
        """async () => {
            const expected = (await (await fetch('/sw.js')).text()).match(/"url":/g).length;
            let cached = 0;
            for (const key of await caches.keys()) cached += (await (await caches.open(key)).keys()).length;
            return cached >= expected;
        }""",
        timeout=60_000,
        polling=250,
    )


__all__ = ["ROOT", "server_and_browser", "wait_offline_ready"]
