"""Head office's insight pages against the bare SQL behind them, and the alert rules against a push.

On the 1,000,000-event database of bench/office.py (built through the ingest path, or reused with
--keep DIR), starts a real `posaid serve`, signs in as an admin over HTTP and times, in the same
run, each page (median of its requests) against the query functions behind it on a read
connection of the same database (target: page ≤ 2× its queries):

- the office home (what needs attention, the new alerts);
- the compliance matrix (a page of 50 shops × 4 checklists × 13 periods, and every region's share
  of the ended periods done on time, over all 1,000 shops);
- the trends (every chart of the last 90 days).

Then, with the server stopped, pushes batches of 500 events (100 incidents of one shop with their
checks and closes, as a hub forwards a backlog) through the ingest path inside `store.write()`, as
a push stores them, and evaluates every alert rule on what arrived (`server.alerts.evaluate`, as
the alert worker does after a push): the time of the rules against the push (target: ≤ 20%).

    .venv/bin/python bench/insight.py [--keep DIR] [--runs 10]
"""

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import office as office_bench
from _server import Server, uuid7

from content.load import load
from server import alerts, queries, writes
from server.office import compliance as compliance_page
from server.office import home as home_page
from server.office import trends as trends_page
from server.office.render import Clock, Renderer, load_strings
from server.queries import Scope
from server.store import Store, connect, now
from sync.ingest import ingest

PUSHES = 5


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def backlog(shop: int, rng: random.Random) -> list[msgspec.Raw]:
    """500 events of one shop: 100 incidents (of the last hours) with three checks and a close each."""
    device = office_bench.device_of(shop)
    base = datetime.now(UTC) - timedelta(hours=6)
    events = []
    for n in range(100):
        at = base + timedelta(minutes=3 * n + rng.randrange(3))
        ms = int(at.timestamp() * 1000)
        text = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        common = {"device": device, "at": text, "recorded_by": "收银员 Li"}
        incident = uuid7(ms)
        events.append({**common, "type": "incident.opened", "id": incident, "payload": {
            "code": rng.choice(office_bench.CODES), "terminal": "收银台 1 Till 1", "occurred_at": text, "note": ""}})
        for k, step in enumerate(office_bench.STEPS[:3]):
            events.append({**common, "type": "incident.step", "id": uuid7(ms + k + 1), "payload": {
                "incident": incident, "flow": "t2", "step": step, "answer": "not_fixed", "note": ""}})
        events.append({**common, "type": "incident.closed", "id": uuid7(ms + 9), "payload": {
            "incident": incident, "outcome": "resolved", "step": "restart"}})
    encode = msgspec.json.Encoder().encode
    return [msgspec.Raw(encode(event)) for event in events]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path, help="Build into (or reuse) this folder instead of a temporary one.")
    parser.add_argument("--shops", type=int, default=1_000)
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="posaid-insight-bench-"))
    data = folder / "data"
    if not (data / "posaid.db").exists():
        data.mkdir(parents=True, exist_ok=True)
        print(f"building {args.events:,} events through the ingest path (bench/office.py's builder) …", flush=True)
        office_bench.build(data, args.shops, args.incidents, args.events)
    store = Store(data / "posaid.db")
    with store.write() as db:  # the alert worker has kept up with what was built
        writes.advance_alert_cursor(db, queries.newest_seq(db))
    store.close()
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "server", "users", "add", "bench", "--role", "admin", "--password-stdin",
                    "--data", str(data)], cwd=office_bench.ROOT, input=office_bench.PASSWORD, text=True,
                   capture_output=True)

    library = load()
    render = Renderer(library, load_strings(), Clock("Asia/Shanghai"))
    reader = connect(data / "posaid.db", readonly=True)
    counts = reader.execute("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM incidents), "
                            "(SELECT count(*) FROM checklist_runs), (SELECT count(*) FROM actions)").fetchone()
    print(f"database: {counts[0]:,} events, {counts[1]:,} incidents, {counts[2]:,} checklist runs, "
          f"{counts[3]:,} actions")

    def bare(call):
        def run():
            reader.execute("BEGIN")
            try:
                call(reader)
            finally:
                reader.conn.rollback()
        return run

    shown = compliance_page.windows(render)
    ended = [p for window in shown.values() for p in window if not p.current]
    f, _, _ = trends_page.bounds(render, 90)
    cases = [
        ("office home", "/office/", bare(lambda db: home_page.home_reads(db, Scope(), render.clock.days_ago(7)))),
        ("compliance matrix", "/office/compliance", bare(lambda db: (
            compliance_page.read_matrix(db, Scope(), shown, None, 0, compliance_page.SHOPS_PAGE),
            queries.compliance_by_region(db, Scope(), ended)))),
        ("trends, 90 days", "/office/trends", bare(lambda db: (
            queries.trend_rows(db, Scope(), f), queries.terminal_register(db, Scope())))),
    ]
    server = Server(data)
    try:
        browser = office_bench.Browser(server)
        browser.sign_in("bench", office_bench.PASSWORD)
        print(f"\n{'page':22} {'page ms':>9} {'SQL ms':>9} {'ratio':>6}  (target ≤ 2)")
        for name, path, query in cases:
            def page(path=path):
                status, body = browser.request("GET", path)
                assert status == 200 and b"<main" in body, (status, body[:300])

            page_ms, query_ms = office_bench.median_ms(page, args.runs), office_bench.median_ms(query, args.runs)
            print(f"{name:22} {page_ms:9.1f} {query_ms:9.1f} {page_ms / query_ms:6.2f}")
        sql, params = queries.compliance_sql(Scope(), ended)
        print("    region summary plan: " + " / ".join(office_bench.plan(reader, sql, params)))
    finally:
        server.stop()
        reader.close()

    # The rules after a push: the same write path a push takes, then the worker's evaluation.
    store = Store(data / "posaid.db")
    rng = random.Random(9)
    pushes, rules = [], []
    for n in range(PUSHES):
        shop = 1 + n * 97 % args.shops
        raws = backlog(shop, rng)

        def push(shop=shop, raws=raws):
            with store.write() as db:
                results = ingest(db, shop, office_bench.device_of(shop), raws, now())
            assert all(r.status == "stored" for r in results), results[:2]

        def evaluate():
            with store.write() as db:
                alerts.evaluate(db)

        pushes.append(timed(push))
        rules.append(timed(evaluate))
    with store.read() as db:
        raised = db.execute("SELECT count(*) FROM alerts").fetchone()[0]
    store.close()
    push_ms, rules_ms = statistics.median(pushes) * 1000, statistics.median(rules) * 1000
    print(f"\npush of 500 events: {push_ms:.1f} ms; every alert rule on it: {rules_ms:.1f} ms "
          f"= {100 * rules_ms / push_ms:.0f}% of the push (target ≤ 20%); alerts held: {raised}")
    if not args.keep:
        print(f"(data in {folder}; pass --keep DIR to reuse a built database)")


if __name__ == "__main__":
    main()
