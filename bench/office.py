"""Head office's pages against the bare SQL behind them, on a chain-sized database.

Builds a database of 1,000,000 events (200,000 incidents with their checks and closes, checklist
runs and maintenance entries; 1,000 shops in 20 regions, a phone each) through the ingest path:
`sync.ingest.ingest` in batches of 500, each inside `store.write()`, as a push stores them. Then
starts a real `posaid serve` on it, signs in as an admin over HTTP, and times, in the same run:

- the incident list with no filter, a code filter, a shop filter and a text filter, and the
  detail page: each page (median of its requests) against the query functions behind it, called
  on a read connection of the same database (target: page ≤ 2× its query);
- the query plans of those queries (they must read through indexes: no scan of the events);
- the CSV export of all 200,000 incidents: rows/s, and the server's resident memory while it
  streams against its memory when idle (target: within 20 MB).

    .venv/bin/python bench/office.py [--incidents 200000] [--shops 1000] [--keep DIR]
"""

import argparse
import hashlib
import http.client
import io
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import msgspec
from _server import ROOT, Server, uuid7
from PIL import Image

from server import queries, writes
from server.office.exports import PAGE as EXPORT_PAGE
from server.queries import Cursor, IncidentFilter, Scope
from server.store import Store, connect, now
from sync.blobs import BlobInfo, BlobStore, blob_key
from sync.ingest import ingest

REGIONS = [f"区域 {n:02d} Region {n}" for n in range(1, 21)]
CODES = ["T2", "T2", "T2", "51", "05", "91", "55", "61", "96", "A0"]
STEPS = ["power", "network", "restart", "card-again", "other-card"]
NOTES = ["", "", "", "顾客改用现金支付", "换了电源插座后恢复", "网络指示灯不亮，路由器重启后恢复", "打印纸用完，已更换",
         "customer paid by card on the second try", "screen showed T2 twice before restart"]
BATCH = 500
PASSWORD = "bench password, long enough"
_encode = msgspec.json.Encoder().encode


def device_of(shop: int) -> str:
    return f"00000000-0000-4000-8000-{shop:012d}"


def photo() -> tuple[bytes, str]:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 90, 100)).save(buffer, "JPEG", quality=80)
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def shop_events(shop: int, incidents: int, others: int, sha: str, rng: random.Random):
    """A shop's records as its phone made them, oldest first: (event, ...) tuples per record."""
    device = device_of(shop)
    ms = 1_767_225_600_000 + rng.randrange(3_600_000)  # 2026-01-01
    gap = 300 * 86_400_000 // (incidents + others)  # spread over ten months
    kinds = ["incident"] * incidents + ["other"] * others
    rng.shuffle(kinds)
    for kind in kinds:
        ms += rng.randrange(gap // 2, gap * 3 // 2)
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))
        base = {"device": device, "at": at, "recorded_by": rng.choice(["收银员 Li", "店长 Wang", "cashier Zhao"])}
        if kind == "incident":
            incident = uuid7(ms)
            record = [{**base, "type": "incident.opened", "id": incident,
                       "blobs": [sha] if rng.random() < 0.01 else [],
                       "payload": {"code": rng.choice(CODES), "terminal": rng.choice(["收银台 1 Till 1", "收银台 2 Till 2"]),
                                   "occurred_at": at, "note": rng.choice(NOTES)}}]
            for n, step in enumerate(STEPS[:rng.choice([1, 2, 2, 3])]):
                record.append({**base, "type": "incident.step", "id": uuid7(ms + n + 1), "payload": {
                    "incident": incident, "flow": "t2", "step": step, "answer": "not_fixed", "note": rng.choice(NOTES)}})
            if rng.random() < 0.9:
                outcome = rng.choice(["resolved", "resolved", "escalated"])
                record.append({**base, "type": "incident.closed", "id": uuid7(ms + 9), "payload": {
                    "incident": incident, "outcome": outcome, "step": "restart"}})
            yield record
        elif rng.random() < 0.55:
            yield [{**base, "type": "checklist.completed", "id": uuid7(ms), "payload": {
                "checklist": "daily", "period": at[:10], "signed_by": "店长 Wang", "items": [
                    {"item": item, "result": rng.choice(["ok", "ok", "ok", "problem", "na"]), "note": ""}
                    for item in ("power-battery", "paper", "network-signin", "first-transaction")]}}]
        else:
            yield [{**base, "type": "maintenance.logged", "id": uuid7(ms), "payload": {
                "terminal": "收银台 1 Till 1", "kind": "software-update", "done_at": at,
                "fields": {"version-before": "2.4.0", "version-after": "2.4.1"}, "note": rng.choice(NOTES)}}]


def build(data: Path, shops: int, incidents: int, events_wanted: int) -> tuple[int, int]:
    """The database, through the ingest path; (events stored, incidents stored)."""
    store = Store(data / "posaid.db")
    blob_store = BlobStore(data / "blobs", 15 * 1024 * 1024)
    image, sha = photo()
    blob_store.shelf.put(blob_key(sha), image)
    rng = random.Random(8)
    at = now()
    with store.write() as db:
        for shop in range(1, shops + 1):
            writes.add_shop(db, f"门店 {shop:04d} Shop {shop}", at, [("收银台 1 Till 1", "PAX A920", f"SN{shop}")])
            writes.update_shop(db, shop, f"门店 {shop:04d} Shop {shop}", REGIONS[shop % len(REGIONS)],
                               f"人民路 {shop} 号", "95516", "400-800-1234")
            writes.enroll_device(db, device_of(shop), shop, f"shop {shop} phone", "phone", at)
            writes.record_blob(db, BlobInfo(sha, len(image), "image/jpeg"), shop, at)
    per_shop = incidents // shops
    # Records other than incidents fill the rest of the million: about 3.9 events per incident.
    others = max(0, (events_wanted - int(incidents * 3.9)) // shops)
    stored = opened = 0
    started = time.perf_counter()
    for shop in range(1, shops + 1):
        batch: list[msgspec.Raw] = []
        for record in shop_events(shop, per_shop, others, sha, rng):
            if len(batch) + len(record) > BATCH:
                stored += _push(store, shop, batch)
                batch = []
            batch += [msgspec.Raw(_encode(event)) for event in record]
            opened += record[0]["type"] == "incident.opened"
        stored += _push(store, shop, batch)
        if shop % 100 == 0:
            rate = stored / (time.perf_counter() - started)
            print(f"  {shop} shops, {stored:,} events ({rate:,.0f}/s)", flush=True)
    store.close()
    return stored, opened


def _push(store: Store, shop: int, raws: list) -> int:
    if not raws:
        return 0
    with store.write() as db:
        results = ingest(db, shop, device_of(shop), raws, now())
    bad = [r for r in results if r.status != "stored"]
    if bad:
        raise SystemExit(f"ingest refused events: {bad[:3]}")
    return len(results)


class Browser:
    """An HTTP client that keeps the office's cookies, over one keep-alive connection."""

    def __init__(self, server: Server):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers=None, stream=None):
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers={**(headers or {}), "Cookie": cookie})
            response = self.conn.getresponse()
        except http.client.RemoteDisconnected:  # the server ended an idle keep-alive connection
            self.conn.close()
            self.conn.request(method, path, body=body, headers={**(headers or {}), "Cookie": cookie})
            response = self.conn.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        if stream:
            return response.status, stream(response)
        return response.status, response.read()

    def sign_in(self, name: str, password: str) -> None:
        _, page = self.request("GET", "/office/login")
        token = re.search(rb'name="_csrf_token" value="([^"]+)"', page).group(1).decode()
        body = urlencode({"username": name, "password": password, "_csrf_token": token}).encode()
        status, _ = self.request("POST", "/office/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 303:
            raise SystemExit(f"sign-in failed: {status}")


def median_ms(call, runs: int) -> float:
    call()  # warm: caches, the thread pool, the page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def plan(db, sql: str, params: list) -> list[str]:
    return [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--shops", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="Build into (or reuse) this folder instead of a temporary one.")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="posaid-office-bench-"))
    data = folder / "data"
    if not (data / "posaid.db").exists():
        data.mkdir(parents=True, exist_ok=True)
        print(f"building {args.events:,} events ({args.incidents:,} incidents, {args.shops:,} shops, "
              f"{len(REGIONS)} regions) through the ingest path, batches of {BATCH} …", flush=True)
        started = time.perf_counter()
        stored, opened = build(data, args.shops, args.incidents, args.events)
        print(f"built {stored:,} events, {opened:,} incidents in {time.perf_counter() - started:.0f} s")
    subprocess.run([sys.executable, "-m", "server", "users", "add", "bench", "--role", "admin", "--password-stdin",
                    "--data", str(data)], cwd=ROOT, input=PASSWORD, text=True, capture_output=True)

    reader = connect(data / "posaid.db", readonly=True)
    db_size = (data / "posaid.db").stat().st_size
    counts = reader.execute("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM incidents)").fetchone()
    print(f"database: {counts[0]:,} events, {counts[1]:,} incidents, {db_size / 2**20:,.0f} MB")

    sample = reader.execute("SELECT id, shop_id FROM incidents WHERE steps_count >= 2 AND photos_count > 0 "
                            "ORDER BY opened_at DESC LIMIT 1").fetchone()
    shop = sample[1]
    cases = [
        ("list, no filter", {}, IncidentFilter()),
        ("list, code=51", {"code": "51"}, IncidentFilter(code="51")),
        (f"list, shop={shop}", {"shop": shop}, IncidentFilter(shop=shop)),
        ("list, text 路由器", {"q": "路由器"}, IncidentFilter(q="路由器")),
        ("list, text matching nothing", {"q": "不存在"}, IncidentFilter(q="不存在")),
        ("list, region + outcome", {"region": REGIONS[3], "outcome": "escalated"},
         IncidentFilter(region=REGIONS[3], outcome="escalated")),
    ]

    server = Server(data)
    try:
        browser = Browser(server)
        browser.sign_in("bench", PASSWORD)
        print(f"\n{'page':28} {'page ms':>9} {'query ms':>9} {'ratio':>6}")
        scans = []
        for name, params, f in cases:
            path = "/office/incidents" + ("?" + urlencode(params) if params else "")

            def page(path=path):
                status, body = browser.request("GET", path)
                assert status == 200 and b"<main" in body, (status, body[:200])

            def query(f=f):
                with_store = reader
                with_store.execute("BEGIN")
                try:
                    queries.incidents(with_store, Scope(), f, None, 50)
                finally:
                    with_store.conn.rollback()

            page_ms, query_ms = median_ms(page, args.runs), median_ms(query, args.runs)
            print(f"{name:28} {page_ms:9.2f} {query_ms:9.2f} {page_ms / query_ms:6.1f}")
            sql, sql_params = queries.incidents_sql(Scope(), f, None, 50)
            steps = plan(reader, sql, sql_params)
            scans += [s for s in steps if re.search(r"SCAN (i|events|e)\b(?! USING)", s)]
            print("    plan: " + " / ".join(steps))
            last = queries.incidents(reader, Scope(), f, None, 50)
            if len(last) == 50:
                cursor = Cursor(last[-1].opened_at, last[-1].id, last[-1].shop_id)
                print("    next page plan: " + " / ".join(plan(reader, *queries.incidents_sql(Scope(), f, cursor, 50))))

        incident, detail_shop = sample
        for label, path, with_shop in [("detail (?shop=)", f"/office/incidents/{incident}?shop={detail_shop}", True),
                                       ("detail (id only)", f"/office/incidents/{incident}", False)]:
            def page(path=path):
                status, body = browser.request("GET", path)
                assert status == 200 and b"timeline" in body, status

            def query(with_shop=with_shop):
                reader.execute("BEGIN")
                try:
                    found = queries.incident(reader, Scope(), incident, detail_shop if with_shop else None)
                    queries.incident_events(reader, found.shop_id, found.id)
                    queries.terminals(reader, found.shop_id)
                finally:
                    reader.conn.rollback()

            page_ms, query_ms = median_ms(page, args.runs), median_ms(query, args.runs)
            print(f"{label:28} {page_ms:9.2f} {query_ms:9.2f} {page_ms / query_ms:6.1f}")
        traced: list[str] = []
        reader.conn.set_trace_callback(traced.append)
        found = queries.incident(reader, Scope(), incident)
        queries.incident_events(reader, found.shop_id, found.id)
        reader.conn.set_trace_callback(None)
        for sql in traced:
            steps = plan(reader, sql, [])
            scans += [s for s in steps if s.startswith("SCAN") and "USING" not in s]
            print("    plan: " + " / ".join(steps))
        print("plans: every query reads through an index" if not scans else f"plans: FULL SCANS {scans}")

        # The CSV of every incident, streamed; the server's memory sampled while it streams.
        time.sleep(1)
        idle = rss_kb(server.process.pid)
        peak = [idle]
        done = threading.Event()

        def sample_memory():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kb(server.process.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample_memory)
        sampler.start()

        def count_rows(response) -> tuple[int, int]:
            size = rows = 0
            while chunk := response.read(1 << 16):
                size += len(chunk)
                rows += chunk.count(b"\n")
            return rows, size

        started = time.perf_counter()
        status, (lines, size) = browser.request("GET", "/office/incidents.csv", stream=count_rows)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        rows = lines - 1  # the header
        print(f"\nCSV export: {rows:,} incidents, {size / 2**20:.1f} MB in {seconds:.1f} s = {rows / seconds:,.0f} rows/s "
              f"(pages of {EXPORT_PAGE}); {size / max(rows, 1):.0f} bytes a row")
        print(f"server memory: idle {idle / 1024:.1f} MB, peak while streaming {peak[0] / 1024:.1f} MB "
              f"(+{(peak[0] - idle) / 1024:.1f} MB; target within 20 MB)")
        assert status == 200 and rows == counts[1], (status, rows)
    finally:
        server.stop()
        reader.close()
    if not args.keep:
        print(f"(data in {folder}; pass --keep DIR to reuse a built database)")


if __name__ == "__main__":
    main()
