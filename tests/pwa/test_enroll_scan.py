"""Scan to enroll (issue 10, item 10): the enrollment page reads the QR code with the camera (jsQR,
vendored, where the browser has no BarcodeDetector, as Chromium on Linux has none), names the
phone after its model and the shop, and after success says what happens next instead of keeping
the used form. The camera is Chromium's fake one, playing a video of the code."""

import io
import sqlite3
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from PIL import Image
from playwright.sync_api import expect

from tests.fixtures import chromium_path
from tests.pwa.phone import SCREENS, enrollment_url, shop_with_register, t

pytestmark = pytest.mark.browser


def qr_video(text: str, path) -> None:
    """A Y4M video (what Chromium's fake camera plays) of a QR code on a white card."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=4)
    code = Image.open(buffer).convert("RGB")
    frame = Image.new("RGB", (640, 480), (255, 255, 255))
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    planes = y.tobytes() + cb.resize((320, 240)).tobytes() + cr.resize((320, 240)).tobytes()
    path.write_bytes(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n" + (b"FRAME\n" + planes) * 10)


@pytest.fixture
def camera_browser(browser, tmp_path):
    """A Chromium whose camera sees the video the test writes to camera.y4m."""
    video = tmp_path / "camera.y4m"
    qr_video("not an enrollment code", video)
    launched = browser.browser_type.launch(executable_path=chromium_path(), headless=True, args=[
        "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    launched.video = video
    yield launched
    launched.close()


@pytest.mark.parametrize("screen_name", list(SCREENS))
def test_scan_the_code_then_the_page_says_what_happens_next(camera_browser, live_server, lang, screen_name):
    shop = shop_with_register(live_server, "Scan shop")
    url = enrollment_url(live_server, shop)
    code = parse_qs(urlsplit(url).query)["code"][0]
    assert parse_qs(urlsplit(url).query)["shop"] == ["Scan shop"]  # the code's URL names the shop
    qr_video(url, camera_browser.video)  # as the office's code page prints it
    width, height = SCREENS[screen_name]
    context = camera_browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True)
    context.grant_permissions(["camera"], origin=live_server.url)
    page = context.new_page()
    page.goto(f"{live_server.url}/{lang}/enroll")
    assert page.evaluate("'BarcodeDetector' in window") is False  # so the vendored decoder reads it
    name = page.get_by_label(t(lang, "enroll.name"))
    expect(name).not_to_have_value("")  # the phone's model, as the browser tells it

    page.get_by_role("button", name=t(lang, "enroll.scan")).click()
    expect(page.get_by_label(t(lang, "enroll.code"))).to_have_value(code, timeout=20_000)
    expect(page.get_by_text(t(lang, "js.scan_found"))).to_be_visible()

    page.get_by_role("button", name=t(lang, "enroll.go"), exact=True).click()
    expect(page.get_by_role("heading", name=t(lang, "enroll.done", shop="Scan shop"))).to_be_visible()
    expect(page.get_by_text(t(lang, "enroll.next"))).to_be_visible()
    expect(page.locator("#enroll-form")).to_be_hidden()  # not the used form
    assert "code=" not in page.url
    device = page.evaluate("async () => (await import('/static/js/db.js')).getMeta('device')")
    with sqlite3.connect(live_server.data / "posaid.db") as db:
        [(stored,)] = db.execute("SELECT name FROM devices WHERE id = ?", [device]).fetchall()
    assert stored.endswith(" · Scan shop") and len(stored) > len(" · Scan shop")  # model and the shop's name
    context.close()
