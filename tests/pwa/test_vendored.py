"""The vendored files (Workbox; jsQR, the enrollment page's QR decoder) are the ones their
VENDOR.md names, byte for byte, with their licence; nothing is loaded from a CDN."""

import hashlib
import re

import pytest

from server.site import STATIC

WORKBOX = STATIC / "workbox"
JSQR = STATIC / "vendor" / "jsqr"


@pytest.mark.parametrize(("folder", "version"), [(WORKBOX, "7.4.1"), (JSQR, "1.4.0")], ids=["workbox", "jsqr"])
def test_checksums_match_the_vendor_note(folder, version):
    note = (folder / "VENDOR.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| (\S+) \| ([0-9a-f]{64}) \|$", note, flags=re.MULTILINE))
    assert listed, "VENDOR.md lists no files"
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    on_disk = {p.name for p in folder.iterdir() if p.suffix in {".js", ".mjs"}}
    assert on_disk == set(listed)
    assert version in note


def test_licence_is_kept():
    assert "MIT" in (WORKBOX / "LICENSE").read_text(encoding="utf-8") or "Permission is hereby granted" in (WORKBOX / "LICENSE").read_text(encoding="utf-8")


def test_no_cdn_anywhere_in_the_app():
    for path in list(STATIC.rglob("*.js")) + list(STATIC.rglob("*.mjs")) + list((STATIC.parent / "templates").rglob("*")):
        if path.parent in (WORKBOX, JSQR):
            continue
        text = path.read_text(encoding="utf-8")
        assert "googleapis" not in text and "https://" not in text, path


def test_jsqr_keeps_its_licence_and_stays_out_of_the_precache():
    assert "Apache License" in (JSQR / "LICENSE").read_text(encoding="utf-8")
    from content.load import load
    from server.site import build_site

    assert not any(url.startswith("/static/vendor/") for url in build_site(load()).static)  # enrolling needs the network
