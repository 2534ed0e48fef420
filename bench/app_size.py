"""Budget: the whole offline app (every precached page, index, script, style, icon and Workbox
file, both languages) under 300 KB compressed. Prints the total and the ratio to the budget,
with the uncompressed size beside it as the in-run reference.

Then, on the wire: a fresh Chromium opens the home page through a proxy that counts every byte
(headers included) until the app has cached everything, and the time until the phone's own
language works offline (the service worker active: its pages cached) and until both do. The same
on the build before this change (--before, a git revision, from `git archive`), in the same run.
"""

import gzip
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _browser import (
    ROOT,
    ByteCounter,
    Served,
    before_revision,
    browser,
    build_at,
    wait_offline_ready,
)

from content.load import load
from server.site import build_site

BUDGET = 300 * 1024


def precached(sw: bytes) -> list[str]:
    lists = json.loads(re.search(rb"const PRECACHE = (\{.*?\}|\[.*?\]);", sw, re.DOTALL).group(1))
    entries = lists if isinstance(lists, list) else [e for entries in lists.values() for e in entries]
    return [e["url"] for e in entries]


def budget() -> None:
    site = build_site(load())
    sw = site.service_worker.body
    raw = compressed = 0
    by_kind: dict[str, int] = {}
    urls = precached(sw)
    for url in urls:
        body = (site.pages.get(url) or site.static[url]).body
        size = len(gzip.compress(body, 9))
        raw += len(body)
        compressed += size
        kind = "static" if url.startswith("/static/") else "pages"
        by_kind[kind] = by_kind.get(kind, 0) + size
    compressed += len(gzip.compress(sw, 9))
    print(f"precached URLs: {len(urls)} (+ sw.js)")
    print(f"uncompressed: {raw / 1024:.1f} KB; gzip: {compressed / 1024:.1f} KB "
          f"(pages {by_kind['pages'] / 1024:.1f} KB, static {by_kind['static'] / 1024:.1f} KB)")
    print(f"ratio to the 300 KB budget: {compressed / BUDGET:.2f} (target < 1.00); "
          f"compression ratio {compressed / raw:.2f}")


def first_install(launched, root: Path, data: Path) -> tuple[int, int, float, float]:
    """Bytes received and sent, seconds to the own language offline and to everything cached."""
    served = Served(root, data)
    counter = ByteCounter(served.port)
    try:
        context = launched.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
        page = context.new_page()
        started = time.perf_counter()
        page.goto(counter.url + "/zh")
        page.evaluate("navigator.serviceWorker.ready")  # active: its precache, the own language, is in
        own = time.perf_counter() - started
        wait_offline_ready(page)
        both = time.perf_counter() - started
        page.wait_for_timeout(500)  # what is still on its way is counted too
        context.close()
        return counter.sent, counter.received, own, both
    finally:
        counter.close()
        served.stop()


def on_the_wire(before: str) -> None:
    with browser() as launched, build_at(before) as old_root, tempfile.TemporaryDirectory() as tmp:
        rows = {label: first_install(launched, root, Path(tmp) / label)
                for label, root in [("before", old_root), ("after", ROOT)]}
    print(f"first install on the wire, headers included (before = {before}):")
    for label, (down, up, own, both) in rows.items():
        print(f"  {label:6}: {down / 1024:.1f} KB received, {up / 1024:.1f} KB sent; own language offline after "
              f"{own * 1000:.0f} ms, both after {both * 1000:.0f} ms")
    (_, before_row), (_, after_row) = rows.items()
    print(f"after/before: bytes {after_row[0] / before_row[0]:.2f}, time to the own language offline "
          f"{after_row[2] / before_row[2]:.2f}")


def main() -> None:
    before = before_revision(__doc__)
    budget()
    on_the_wire(before)


if __name__ == "__main__":
    main()
