"""A hub's backlog reaching head office through a link that keeps breaking.

50,000 events and 200 photos wait on a hub (pushed there by a phone; not timed). The same data is
first sent straight to one head office as a hub would send it (blobs, then batches of 500, over
one keep-alive connection): the in-run reference. Then the hub's own forwarder (`serve --role
hub`) sends it to a second head office through a proxy that cuts every connection after a random
100 KB - 3 MB. Prints both times and their ratio, the requests the forwarder made against the
least possible (one per batch and per photo, and a HEAD per photo), and checks head office ends
with every event and photo once.

    .venv/bin/python bench/forward.py [--events 50000] [--photos 200]
"""

import argparse
import hashlib
import http.client
import io
import json
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from _proxy import Proxy
from _server import Server, uuid7
from PIL import Image

BATCH = 500


def photos(count: int) -> list[bytes]:
    out = []
    for n in range(count):
        buffer = io.BytesIO()
        Image.effect_noise((400, 300), 30 + n % 60).convert("RGB").save(buffer, "JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


def backlog(device: str, count: int, shots: list[bytes]) -> list[dict]:
    at = "2026-11-29T09:00:00+08:00"
    shas = [hashlib.sha256(s).hexdigest() for s in shots]
    events = []
    for n in range(count):
        blobs = [shas[n // (count // len(shas))]] if n % (count // len(shas)) == 0 else []
        events.append({"type": "incident.opened", "id": uuid7(1_777_000_000_000 + n), "device": device, "at": at,
                       "recorded_by": "收银员", "blobs": blobs,
                       "payload": {"code": "T2", "terminal": "收银台 1", "occurred_at": at, "note": f"断网 {n}"}})
    return events


def send(server: Server, headers: dict, shots: list[bytes], events: list[dict]) -> float:
    """Send photos, then events in batches, over one connection as a hub does; seconds taken."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    start = time.perf_counter()
    for shot in shots:
        conn.request("PUT", f"/api/v1/blobs/{hashlib.sha256(shot).hexdigest()}", shot,
                     {**headers, "Content-Type": "application/offset+octet-stream"})
        response = conn.getresponse()
        response.read()
        assert response.status == 201, response.status
    for i in range(0, len(events), BATCH):
        conn.request("POST", "/api/v1/events", json.dumps({"events": events[i:i + BATCH]}).encode(), headers)
        response = conn.getresponse()
        assert response.status == 200 and b'"rejected"' not in response.read()
    took = time.perf_counter() - start
    conn.close()
    return took


def counted(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        return (conn.execute("SELECT count(*) FROM events").fetchone()[0],
                conn.execute("SELECT count(*) FROM blobs").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--photos", type=int, default=200)
    args = parser.parse_args()
    shots = photos(args.photos)
    payload = sum(map(len, shots))
    with tempfile.TemporaryDirectory(prefix="posaid-forward-") as tmp:
        tmp = Path(tmp)
        direct, hq, hub = (Server(tmp / "direct"), Server(tmp / "hq"),
                           Server(tmp / "hub", role="hub", upstream_timeout_seconds=10, forward_every_seconds=1,
                                  forward_retry_seconds=0.5))
        proxy = Proxy(hq.port, cut_after=(100_000, 3_000_000))
        try:
            device, token = hub.enroll_many(1)[0]
            phone = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            events = backlog(device, args.events, shots)
            reference = send(direct, direct.enroll("direct", device), shots, events)

            send(hub, phone, shots, events)  # the backlog waits on the hub while the link is down
            shop = hq.posaid("shops", "add", "bench shop").strip()
            code = hq.posaid("codes", "issue", shop, "--hub").split("code: ")[1].split()[0]
            proxy.set("cut")
            start = time.perf_counter()
            hub.posaid("upstream", "enroll", proxy.url, code)
            threading.Thread(target=hub.request, args=("GET", "/healthz"), daemon=True).start()
            while counted(tmp / "hq" / "posaid.db") != (args.events, args.photos):
                if time.perf_counter() - start > 900:
                    raise SystemExit(f"not done after 900 s: {counted(tmp / 'hq' / 'posaid.db')}")
                time.sleep(0.5)
            forwarded = time.perf_counter() - start
        finally:
            proxy.close()
            for server in (hub, hq, direct):
                server.stop()
    least = args.events // BATCH + 2 * args.photos  # a push per batch; a HEAD and a PUT per photo
    print(f"{args.events:,} events and {args.photos} photos ({payload / 1e6:.1f} MB of photos)")
    print(f"direct push to head office: {reference:.1f} s")
    print(f"forwarded by the hub through a link cut every 0.1-3 MB ({proxy.connections} connections): "
          f"{forwarded:.1f} s; ratio {forwarded / reference:.2f}")
    print(f"requests through the link: {proxy.requests} against the least possible {least} "
          f"({proxy.requests / least:.2f}x)")


if __name__ == "__main__":
    main()
