"""Head office beyond one machine, the object store: a server's memory while it takes a 1 MB and
a 50 MB photo into an S3 bucket (a real SeaweedFS on loopback) against the same into its data
folder, in the same run (budget: memory flat, within 10 MB, on both), and the seconds each 50 MB
upload takes end to end (the bucket's cost over the folder's: the photo crosses a second socket).

Not measured yet (PostgreSQL is not a backend of posaid yet): the push against PostgreSQL with
its raw-insert reference, one against two app servers, the office list page on PostgreSQL.

    .venv/bin/python bench/scale.py
"""

import hashlib
import tempfile
import time
from pathlib import Path

from _seaweed import SeaweedFS
from _server import Server
from ingest import noise_png, peak_rss_during


def measure(server: Server, small: bytes, large: bytes) -> tuple[int, int, float]:
    """(peak MB for the small photo, for the large one, seconds for the large one)."""
    auth = server.enroll()
    _, peak_small = peak_rss_during(server, auth, small)
    start = time.perf_counter()
    _, peak_large = peak_rss_during(server, auth, large)
    return peak_small, peak_large, time.perf_counter() - start


def main() -> None:
    small, large = noise_png(1_000_000), noise_png(50_000_000)
    with tempfile.TemporaryDirectory(prefix="posaid-bench-") as tmp:
        work = Path(tmp)
        seaweed = SeaweedFS(work / "seaweedfs").start()
        try:
            results = {}
            for name, settings in (("folder", {}), ("s3", {"blobs": seaweed.prefix(), **seaweed.settings()})):
                server = Server(work / name, max_blob_bytes=60 * 1024 * 1024, **settings)
                try:
                    results[name] = measure(server, small, large)
                finally:
                    server.stop()
            stored = [item for item in seaweed.client().list_objects_v2(Bucket="posaid").get("Contents", [])
                      if item["Key"].endswith(hashlib.sha256(large).hexdigest()[2:])]
            assert stored and stored[0]["Size"] == len(large), "the 50 MB photo is not in the bucket"
        finally:
            seaweed.stop()
    for name, (peak_small, peak_large, seconds) in results.items():
        print(f"{name:6}: peak RSS {peak_small} MB for a 1 MB photo, {peak_large} MB for a 50 MB one: "
              f"difference {peak_large - peak_small} MB (budget within 10 MB); 50 MB in {seconds:.2f} s")
    print(f"s3 / folder, seconds for the 50 MB photo: {results['s3'][2] / results['folder'][2]:.2f}")


if __name__ == "__main__":
    main()
