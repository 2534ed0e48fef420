"""HTTPS in the shop (issue 10, item 12): `posaid tls init` makes a local authority and the hub's
certificate, `posaid serve` uses it, and a Chromium that trusts only that authority (a fresh NSS
database in its own HOME) loads the hub over HTTPS, installs the app and reads the page that
shows how to install the authority on a phone. A Chromium without the authority refuses."""

import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Error, expect

from server.tls import authority, files
from tests.fixtures import ROOT, chromium_path, free_port, posaid, wait_offline_ready
from tests.pwa.phone import SCREENS, t

pytestmark = pytest.mark.browser


@pytest.fixture
def hub(tmp_path, content_dir):
    """A hub with its own authority, serving HTTPS on a free port."""
    data = tmp_path / "hub"
    result = posaid("tls", "init", "--data", str(data))
    assert result.exit_code == 0, result.output
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(port), "--data", str(data),
                                "--content", str(content_dir), "--role", "hub"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    trust = ssl.create_default_context(cafile=str(files(data).ca))
    url = f"https://localhost:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1, context=trust):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the hub did not answer over HTTPS: {process.stdout.read()}")
            time.sleep(0.1)
    yield url, data
    process.terminate()
    process.wait(timeout=10)


def browser_trusting(browser_type, home, ca=None):
    """Chromium with HOME at home, whose NSS database trusts ca alone (or nothing)."""
    certutil = shutil.which("certutil")
    if not certutil:
        pytest.fail("certutil is missing: `make test` installs Debian's libnss3-tools")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run([certutil, "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True)
    if ca:
        subprocess.run([certutil, "-A", "-d", f"sql:{nssdb}", "-n", "posaid shop", "-t", "C,,", "-i", str(ca)], check=True)
    return browser_type.launch(executable_path=chromium_path(), headless=True, env={"HOME": str(home)},
                              args=["--no-sandbox", "--disable-gpu", "--disable-quic"])


def test_tls_init_keeps_the_authority_and_renews_the_certificate(tmp_path):
    data = tmp_path / "data"
    assert posaid("tls", "init", "--data", str(data), "--name", "hub.shop.lan", "--ip", "10.1.2.3").exit_code == 0
    first = authority(data)
    cert = files(data).cert.read_bytes()
    result = posaid("tls", "init", "--data", str(data))
    assert result.exit_code == 0 and "hub.shop.lan" not in result.output
    assert authority(data) == first  # phones that trust it keep trusting it
    assert files(data).cert.read_bytes() != cert
    assert oct(files(data).key.stat().st_mode & 0o777) == "0o600"
    bad = posaid("tls", "init", "--data", str(data), "--ip", "not-an-address")
    assert bad.exit_code != 0 and "--ip" in bad.output


@pytest.mark.parametrize("screen_name", list(SCREENS))
def test_a_phone_that_trusts_the_authority_installs_the_app_over_https(browser, hub, tmp_path, lang, screen_name):
    url, data = hub
    width, height = SCREENS[screen_name]
    # Other Chromiums come from the session's Playwright (one per process).
    stranger = browser_trusting(browser.browser_type, tmp_path / "stranger")
    with pytest.raises(Error, match="ERR_CERT_AUTHORITY_INVALID"):
        stranger.new_page().goto(url + f"/{lang}")
    stranger.close()

    phone = browser_trusting(browser.browser_type, tmp_path / "phone", files(data).ca)
    context = phone.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(url + f"/{lang}/tls")
    expect(page.locator("h1")).to_have_text(t(lang, "tls.title"))
    expect(page.locator("figure.qr svg")).to_be_visible()
    _, fingerprint = authority(data)
    expect(page.locator(".hint code")).to_have_text(fingerprint)
    assert page.evaluate("window.isSecureContext") is True
    with page.expect_download() as download:
        page.get_by_role("link", name=t(lang, "tls.download")).click()
    assert download.value.suggested_filename == "posaid-ca.crt"
    assert authority(data)[0] == Path(download.value.path()).read_bytes()

    page.goto(url + f"/{lang}")
    wait_offline_ready(page)  # the service worker installed: the app works offline
    context.set_offline(True)
    page.goto(url + f"/{lang}/codes/T2")
    expect(page.locator("h1")).to_contain_text("T2")
    phone.close()
