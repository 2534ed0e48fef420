"""What the browser benchmarks share: a real server process, Chromium, an installed app."""

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.load import DEFAULT_ROOT  # noqa: E402
from tests.conftest import LiveServer, chromium_path, free_port  # noqa: E402
from tests.pwa.test_offline import wait_offline_ready  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def server_and_browser():
    """A fresh `posaid serve` on a free port and a headless Chromium; both stopped afterwards."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp) / "data", DEFAULT_ROOT, free_port()).start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=ARGS)
                try:
                    yield server, browser
                finally:
                    browser.close()
        finally:
            server.stop()


__all__ = ["server_and_browser", "wait_offline_ready", "ROOT"]
