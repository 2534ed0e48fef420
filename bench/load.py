"""Many phones at once: 200 simulated phones sync together against one server on loopback.

Each phone (enrolled beforehand, not timed) does what the app does after an outage: pull, upload
one photo, push a batch of 25 events naming it, pull again. All 200 start together; the run is
bounded (200 phones, 120 s at most). Prints errors (target 0), requests/s, p50 and p99 of the
phones' requests, and, from a separate process probing /healthz every 20 ms, its p95 while the
phones sync against its p95 when the server is idle (target: at most 3×), the in-run reference.

    .venv/bin/python bench/load.py [--phones 200]
"""

import argparse
import asyncio
import hashlib
import io
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _server import Server, uuid7
from PIL import Image

LIMIT_SECONDS = 120


def probe(port: int, seconds: float, out) -> None:
    """Time GET /healthz every 20 ms for `seconds`, in its own process (no GIL shared with the phones)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        times.append((time.perf_counter() - start) * 1000)
        time.sleep(0.02)
    out.send(times)


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def healthz_times(port: int, seconds: float) -> multiprocessing.Process:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=probe, args=(port, seconds, child))
    process.start()
    process.pipe = parent
    return process


def photo(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((240, 180), 40 + n % 50).convert("RGB").save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def events(device: str, sha: str, n: int) -> list[dict]:
    ms = 1_777_000_000_000 + n * 100
    at = "2026-11-29T09:00:00+08:00"
    opened = {"type": "incident.opened", "id": uuid7(ms), "device": device, "at": at, "recorded_by": "收银员",
              "blobs": [sha], "payload": {"code": "T2", "terminal": "收银台 1", "occurred_at": at, "note": "断网"}}
    steps = [{"type": "incident.step", "id": uuid7(ms + k + 1), "device": device, "at": at, "recorded_by": "收银员",
              "payload": {"incident": opened["id"], "flow": "t2", "step": "network", "answer": "not_fixed"}}
             for k in range(24)]
    return [opened, *steps]


async def phone(httpx, base: str, token: str, device: str, n: int, latencies: list, errors: list) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    data = photo(n)
    sha = hashlib.sha256(data).hexdigest()
    body = json.dumps({"events": events(device, sha, n)}).encode()
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for method, path, content, headers, ok in [
            ("GET", "/api/v1/pull", None, auth, {200}),
            ("PUT", f"/api/v1/blobs/{sha}", data, {**auth, "Content-Type": "application/offset+octet-stream"}, {201}),
            ("POST", "/api/v1/events", body, {**auth, "Content-Type": "application/json"}, {200}),
            ("GET", "/api/v1/pull", None, auth, {200}),
        ]:
            start = time.perf_counter()
            try:
                response = await client.request(method, path, content=content, headers=headers)
                if response.status_code not in ok or b'"rejected"' in response.content:
                    errors.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
            except Exception as exc:  # any failure of any kind is an error of the run, counted
                errors.append(f"{method} {path}: {exc!r}")
            latencies.append((time.perf_counter() - start) * 1000)


async def sync_all(httpx, base: str, phones: list[tuple[str, str]]) -> tuple[list, list, float]:
    latencies, errors = [], []
    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(
        phone(httpx, base, token, device, n, latencies, errors) for n, (device, token) in enumerate(phones))),
        LIMIT_SECONDS)
    return latencies, errors, time.perf_counter() - start


def main() -> None:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="posaid-load-") as tmp:
        server = Server(Path(tmp) / "data", enroll_per_address=100_000, enroll_per_code=100_000)
        try:
            phones = server.enroll_many(args.phones)
            idle = healthz_times(server.port, 3)
            idle_times = idle.pipe.recv()
            idle.join()
            busy = healthz_times(server.port, 8)
            latencies, errors, took = asyncio.run(sync_all(httpx, server.url, phones))
            busy_times = busy.pipe.recv()
            busy.join()
        finally:
            server.stop()
    requests = len(latencies)
    print(f"{args.phones} phones, {requests} requests in {took:.1f} s: {requests / took:.0f} requests/s")
    print(f"errors: {len(errors)} (target 0)" + "".join(f"\n  {e}" for e in errors[:5]))
    print(f"phone requests: p50 {p(latencies, 50):.0f} ms, p99 {p(latencies, 99):.0f} ms")
    idle_p95, busy_p95 = p(idle_times, 95), p(busy_times, 95)
    print(f"/healthz p95: idle {idle_p95:.1f} ms, while the phones sync {busy_p95:.1f} ms: "
          f"{busy_p95 / idle_p95:.1f}x (target <= 3x)")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
