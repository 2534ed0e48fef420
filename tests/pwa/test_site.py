"""What the service worker precaches, the web app manifest, and the icons."""

import json
import re

from PIL import Image

from content.load import load
from server.site import STATIC, build_site


def precache_of(site) -> dict[str, str]:
    sw = site.service_worker.body.decode()
    lists = json.loads(re.search(r"const PRECACHE = (\{.*?\});", sw, flags=re.DOTALL).group(1))
    return {entry["url"]: entry["revision"] for entries in lists.values() for entry in entries}


def test_precache_holds_every_page_and_asset():
    site = build_site(load())
    precache = precache_of(site)
    assert set(site.pages) - {"/"} <= set(precache)  # "/" is /zh, which the service worker answers with
    for needed in ["/zh/codes/T2", "/en/codes/T2", "/zh/flows/t2", "/static/js/app.js",
                   "/static/css/app.css", "/static/workbox/workbox-precaching.prod.js",
                   "/static/icons/icon-192.png", "/en/manifest.webmanifest", "/zh/offline"]:
        assert needed in precache, needed


def test_a_content_change_changes_only_its_pages_revisions(content_dir):
    before = precache_of(build_site(load(content_dir)))
    t2 = content_dir / "codes" / "51.toml"
    t2.write_text(t2.read_text(encoding="utf-8").replace('customer = { zh = "', 'customer = { zh = "请', 1), encoding="utf-8")
    after = precache_of(build_site(load(content_dir)))
    changed = {url for url in before if before[url] != after[url]}
    assert "/zh/codes/51" in changed
    assert "/en/codes/T2" not in changed
    assert "/static/js/app.js" not in changed


def test_manifest_is_installable():
    site = build_site(load())
    for lang, start in [("zh", "/zh"), ("en", "/en")]:
        manifest = json.loads(site.pages[f"/{lang}/manifest.webmanifest"].body)
        assert manifest["start_url"] == start
        assert manifest["display"] == "standalone"
        assert manifest["name"] and manifest["short_name"]
        sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
        assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
        for icon in manifest["icons"]:
            with Image.open(STATIC / icon["src"].removeprefix("/static/").split("?")[0]) as image:
                assert f"{image.width}x{image.height}" == icon["sizes"]


def test_served_modules_are_the_sources_less_their_comment_lines(tmp_path):
    """What the phone downloads still parses (Node checks each module) and keeps every code line."""
    import subprocess

    from tests.node import node_path

    site = build_site(load())
    for url, page in site.static.items():
        if not url.startswith("/static/js/"):
            continue
        served = page.body.decode()
        path = tmp_path / url.rsplit("/", 1)[1].replace(".js", ".mjs")
        path.write_text(served, encoding="utf-8")
        subprocess.run([node_path(), "--check", str(path)], check=True, capture_output=True)
        source = (STATIC / url.removeprefix("/static/")).read_text(encoding="utf-8")
        code = [line for line in source.splitlines() if line.strip() and not line.strip().startswith(("//", "/*", "*"))]
        assert [re.sub(r"\?v=\w+", "", line) for line in served.splitlines() if line.strip()] == code, url
