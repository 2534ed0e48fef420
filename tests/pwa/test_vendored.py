"""The vendored Workbox files are the ones VENDOR.md names, byte for byte, with their licence."""

import hashlib
import re

from server.site import STATIC

WORKBOX = STATIC / "workbox"


def test_checksums_match_the_vendor_note():
    note = (WORKBOX / "VENDOR.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| (\S+) \| ([0-9a-f]{64}) \|$", note, flags=re.M))
    assert listed, "VENDOR.md lists no files"
    for name, digest in listed.items():
        assert hashlib.sha256((WORKBOX / name).read_bytes()).hexdigest() == digest, name
    on_disk = {p.name for p in WORKBOX.iterdir() if p.suffix in {".js", ".mjs"}}
    assert on_disk == set(listed)
    assert "7.4.1" in note


def test_licence_is_kept():
    assert "MIT" in (WORKBOX / "LICENSE").read_text(encoding="utf-8") or "Permission is hereby granted" in (WORKBOX / "LICENSE").read_text(encoding="utf-8")


def test_no_cdn_anywhere_in_the_app():
    for path in list(STATIC.rglob("*.js")) + list(STATIC.rglob("*.mjs")) + list((STATIC.parent / "templates").rglob("*")):
        if path.parent == WORKBOX:
            continue
        text = path.read_text(encoding="utf-8")
        assert "googleapis" not in text and "https://" not in text, path
