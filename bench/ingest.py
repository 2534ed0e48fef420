"""Push ingest end to end against a raw SQLite executemany, and server memory while receiving blobs.

Starts a real `posaid serve` (one uvicorn worker) on a free port with its own data folder,
enrolls a device with a code from `posaid codes issue`, pushes 100,000 events in batches of 500
over one keep-alive HTTP connection, then inserts the very rows the server stored into a table
of the same schema (same indexes, WAL, same pragmas) with sqlite3 executemany, one transaction
per 500 rows like the server. Prints events/s both ways and the ratio (budget: at least 0.3),
and the same ratio in CPU seconds (the server process's against the raw inserts'), which moves
less than wall time when the machine is busy with other work.

Then uploads a 1 MB and a 50 MB photo (PNGs of random noise, stored uncompressed, so they are
real images of those sizes) and prints the server's peak resident memory during each (budget:
within 10 MB of each other: memory must not grow with the blob).

    .venv/bin/python bench/ingest.py [--events 100000] [--batch 500]
"""

import argparse
import hashlib
import http.client
import io
import json
import os
import random
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from _server import DEVICE, Server, uuid7
from PIL import Image

from server.store import PRAGMAS

NOTES = ["", "", "顾客改用现金支付", "换了电源插座后恢复", "网络指示灯不亮，路由器重启", "打印纸用完，已更换",
         "customer paid by card on the second try", "screen showed T2 twice before restart"]


def make_events(count: int) -> list[dict]:
    """A shop's worth of records: incidents with their steps and closes, checklists, maintenance."""
    rng = random.Random(5)
    events: list[dict] = []
    ms = 1_777_000_000_000
    steps = ["power", "cables", "network", "restart", "card", "amount", "config", "update"]
    while len(events) < count:
        ms += 1000
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + "Z"
        base = {"device": DEVICE, "at": at, "recorded_by": "收银员 Li"}
        roll = rng.random()
        if roll < 0.8:
            opened_id = uuid7(ms)
            events.append({**base, "type": "incident.opened", "id": opened_id, "payload": {
                "code": rng.choice(["T2", "51", "05", "91"]), "terminal": "收银台 1 Till 1", "occurred_at": at,
                "note": rng.choice(NOTES)}})
            for step in steps[:rng.randint(1, 4)]:
                events.append({**base, "type": "incident.step", "id": uuid7(ms), "payload": {
                    "incident": opened_id, "flow": "t2", "step": step, "answer": "not_fixed",
                    "note": rng.choice(NOTES)}})
            events.append({**base, "type": "incident.closed", "id": uuid7(ms), "payload": {
                "incident": opened_id, "outcome": rng.choice(["resolved", "escalated"]), "step": "restart"}})
        elif roll < 0.9:
            events.append({**base, "type": "checklist.completed", "id": uuid7(ms), "payload": {
                "checklist": "daily", "period": at[:10], "signed_by": "店长 Wang", "items": [
                    {"item": item, "result": rng.choice(["ok", "ok", "problem", "na"]), "note": rng.choice(NOTES)}
                    for item in ["power-battery", "paper", "network-signin", "first-transaction"]]}})
        else:
            events.append({**base, "type": "maintenance.logged", "id": uuid7(ms), "payload": {
                "terminal": "收银台 1 Till 1", "kind": "software-update", "done_at": at,
                "fields": {"version-before": "2.4.0", "version-after": "2.4.1"}, "note": rng.choice(NOTES)}})
    return events[:count]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def push_all(server: Server, auth: dict, bodies: list[bytes]) -> tuple[float, float]:
    """Push every batch over one keep-alive connection: (seconds it took, server CPU seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    cpu = cpu_seconds(server.process.pid)
    start = time.perf_counter()
    for body in bodies:
        conn.request("POST", "/api/v1/events", body=body, headers=auth)
        response = conn.getresponse()
        answer = response.read()
        if response.status != 200 or b'"rejected"' in answer or b'"conflict"' in answer:
            raise SystemExit(f"push failed: {response.status} {answer[:300]!r}")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, cpu_seconds(server.process.pid) - cpu


def raw_executemany(server_db: Path, work: Path, batch: int) -> tuple[float, float, float]:
    """The same rows into the same table by plain sqlite3, in seconds: (a transaction per batch,
    its CPU time, all in one transaction)."""
    source = sqlite3.connect(server_db)
    ddl = [sql for (sql,) in source.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'events' AND sql IS NOT NULL ORDER BY type DESC")]
    rows = source.execute(
        "SELECT id, type, shop_id, device, pushed_by, at, recorded_by, incident, photos, body, hash, received_at "
        "FROM events ORDER BY seq").fetchall()
    source.close()
    insert = ("INSERT INTO events (id, type, shop_id, device, pushed_by, at, recorded_by, incident, photos, body, "
              "hash, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    timings = []
    for per_batch in (True, False):
        path = work / f"raw-{per_batch}.db"
        conn = sqlite3.connect(path, isolation_level=None)
        for pragma in PRAGMAS:  # the server's own, so both sides get the same SQLite
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("CREATE TABLE shops (id INTEGER PRIMARY KEY, name TEXT, created_at TEXT)")
        conn.execute("INSERT INTO shops VALUES (1, 'bench shop', '')")
        for sql in ddl:
            conn.execute(sql)
        chunks = [rows[i:i + batch] for i in range(0, len(rows), batch)] if per_batch else [rows]
        start, cpu = time.perf_counter(), time.process_time()
        for chunk in chunks:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(insert, chunk)
            conn.execute("COMMIT")
        timings.append((time.perf_counter() - start, time.process_time() - cpu))
        conn.close()
    return timings[0][0], timings[0][1], timings[1][0]


def noise_png(size: int) -> bytes:
    side = int((size / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def peak_rss_during(server: Server, auth: dict, data: bytes) -> tuple[int, int]:
    """(resident MB before, peak resident MB while the server receives and stores this blob)."""
    pid = server.process.pid
    before = status_kb(pid, "VmRSS")
    peak = before
    try:  # reset the kernel's high-water mark so VmHWM is this upload's peak
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        exact = True
    except OSError:
        exact = False
    done = threading.Event()

    def sample() -> None:  # the fallback when clear_refs is not allowed: sample every 2 ms
        nonlocal peak
        while not done.is_set():
            peak = max(peak, status_kb(pid, "VmRSS"))
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    name = hashlib.sha256(data).hexdigest()
    status, answer = server.request("PUT", f"/api/v1/blobs/{name}", data, {**auth, "Content-Type": "image/png"})
    done.set()
    sampler.join()
    if status != 201:
        raise SystemExit(f"blob upload failed: {status} {answer[:300]!r}")
    if exact:
        peak = max(peak, status_kb(pid, "VmHWM"))
    return before // 1024, peak // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    events = make_events(args.events)
    bodies = [json.dumps({"events": events[i:i + args.batch]}, ensure_ascii=False).encode()
              for i in range(0, len(events), args.batch)]
    with tempfile.TemporaryDirectory(prefix="posaid-bench-") as tmp:
        work = Path(tmp)
        server = Server(work / "data", max_blob_bytes=60 * 1024 * 1024)
        try:
            auth = server.enroll()
            pushed, pushed_cpu = push_all(server, auth, bodies)
            db = work / "data" / "posaid.db"
            stored = sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()[0]
            assert stored == len(events), (stored, len(events))
            raw_batches, raw_cpu, raw_once = raw_executemany(db, work, args.batch)
            n = len(events)
            print(f"push over HTTP, batches of {args.batch}: {n / pushed:10,.0f} events/s ({pushed:.2f} s for {n:,})")
            print(f"raw executemany, {args.batch} a transaction: {n / raw_batches:10,.0f} events/s ({raw_batches:.2f} s)")
            print(f"raw executemany, one transaction:   {n / raw_once:10,.0f} events/s ({raw_once:.2f} s)")
            print(f"ratio push / raw ({args.batch} a transaction): {raw_batches / pushed:.2f} (budget >= 0.3)")
            print(f"ratio push / raw (one transaction):   {raw_once / pushed:.2f}")
            # CPU seconds are steadier than wall time on a busy machine: the server's own CPU
            # for the pushes against the raw inserts' CPU.
            print(f"ratio in CPU time (server {pushed_cpu:.2f} s, raw {raw_cpu:.2f} s): {raw_cpu / pushed_cpu:.2f}")

            small, large = noise_png(1_000_000), noise_png(50_000_000)
            base_small, peak_small = peak_rss_during(server, auth, small)
            base_large, peak_large = peak_rss_during(server, auth, large)
            print(f"server RSS receiving a {len(small) / 1e6:.0f} MB blob: peak {peak_small} MB (from {base_small} MB)")
            print(f"server RSS receiving a {len(large) / 1e6:.0f} MB blob: peak {peak_large} MB (from {base_large} MB)")
            print(f"difference: {peak_large - peak_small} MB (budget within 10 MB)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
