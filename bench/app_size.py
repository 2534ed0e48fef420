"""Budget: the whole offline app (every precached page, index, script, style, icon and Workbox
file, both languages) under 300 KB compressed. Prints the total and the ratio to the budget,
with the uncompressed size beside it as the in-run reference."""

import gzip
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from content.load import load  # noqa: E402
from server.site import STATIC, build_site  # noqa: E402

BUDGET = 300 * 1024


def main() -> None:
    site = build_site(load())
    sw = site.service_worker.body
    urls = [e["url"] for e in json.loads(re.search(rb"const PRECACHE = (\[.*?\]);", sw, re.S).group(1))]
    raw = compressed = 0
    by_kind: dict[str, int] = {}
    for url in urls:
        body = site.pages[url].body if url in site.pages else (STATIC / url.removeprefix("/static/")).read_bytes()
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


if __name__ == "__main__":
    main()
