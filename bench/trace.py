"""Trace and recall on a phone plant's year of genealogy, on PostgreSQL, over HTTP.

Builds (in its own database, created by this script) one million finished phones, each a
3-level tree: phone serial ← main-board serial ← component lots, plus a display serial and
battery, housing and screw lots on the phone — ten genealogy links per phone, ten million in
all, written by ``INSERT … SELECT generate_series`` on the server (no ORM row by row). Then it
starts the application under gunicorn on 127.0.0.1 against that database and prints:

* p50/p95 of ``GET /api/v1/trace/backward/?serial=…`` for random finished phones (token auth);
* the time of a recall of one system-on-chip lot that went into at least 100,000 phones:
  the bare recursive query, and ``POST /api/v1/recalls/`` until the job is done (eager mode:
  the job runs in the request, so this is the whole job, report stored).

    .venv/bin/python bench/trace.py                 # full scale (a few minutes to build)
    .venv/bin/python bench/trace.py --phones 20000  # smoke run
    .venv/bin/python bench/trace.py --reuse         # keep the data built by the last run
    .venv/bin/python bench/trace.py --explain       # also print the query plans
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._trace_genealogy import build, create_database, log, prewarm, recall_lot  # noqa: E402
from bench._trace_server import (  # noqa: E402
    cpu_seconds,
    prioritize,
    service_pids,
    start_server,
    stop_server,
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=1_000_000, help="finished serials (default 1,000,000)")
    parser.add_argument("--pg-url", default=os.environ.get("MES_BENCH_PGURL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="mes_bench_trace")
    parser.add_argument("--reuse", action="store_true", help="use the data of an earlier run")
    parser.add_argument("--samples", type=int, default=2000, help="backward traces to time")
    parser.add_argument("--recalls", type=int, default=3, help="recalls to time")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--cold", action="store_true", help="do not read the trace tables into memory first")
    parser.add_argument(
        "--priority",
        type=int,
        default=0,
        metavar="N",
        help="run the bench, gunicorn and their PostgreSQL backends N steps nicer than the rest of the "
        "machine (e.g. 10), to measure the service apart from other work sharing the cores",
    )
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    import django

    django.setup()


def time_backward_traces(args, token: str, server_pid: int) -> tuple[float, float, int, float, float]:
    """GET the backward trace of random finished phones, one request at a time (a fresh
    connection each: gunicorn's sync workers close it after every answer)."""
    import http.client

    rng = random.Random(args.seed)
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def get(code: str) -> tuple[float, dict]:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        conn.request("GET", f"/api/v1/trace/backward/?serial={code}", headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        conn.close()
        assert response.status == 200, body[:500]
        return elapsed, json.loads(body)

    for _ in range(min(200, args.samples)):
        get(f"PHN{rng.randint(1, args.phones):08d}")
    prioritize(args)
    workers, backends = service_pids(args, server_pid)
    app_before = sum(cpu_seconds(pid) for pid in workers)
    db_before = sum(cpu_seconds(pid) for pid in backends)
    timings = []
    nodes = 0
    for _ in range(args.samples):
        elapsed, tree = get(f"PHN{rng.randint(1, args.phones):08d}")
        timings.append(elapsed)
        nodes = tree["node_count"]
    app_ms = (sum(cpu_seconds(pid) for pid in workers) - app_before) * 1000 / args.samples
    db_ms = (sum(cpu_seconds(pid) for pid in backends) - db_before) * 1000 / args.samples
    return percentile(timings, 0.5), percentile(timings, 0.95), nodes, app_ms, db_ms


def time_bare_recall(args, cursor_factory, lot_id: int) -> tuple[float, int, float]:
    """Best wall time of the recall's recursive query, its leaves, and the CPU it took the server."""
    from inventory.selectors.trace import MAX_DEPTH, leaves_sql

    sql = leaves_sql()
    best = None
    count = 0
    with cursor_factory() as cur:
        cur.execute("SET jit = off")
        cur.execute("SET work_mem = '64MB'")
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
        if args.explain:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, [lot_id, MAX_DEPTH])
            print("\n".join(row[0] for row in cur.fetchall()))
        cpu_before = cpu_seconds(backend)
        for _ in range(args.recalls):
            started = time.perf_counter()
            cur.execute(sql, [lot_id, MAX_DEPTH])
            count = len(cur.fetchall())
            elapsed = time.perf_counter() - started
            best = elapsed if best is None else min(best, elapsed)
        cpu = (cpu_seconds(backend) - cpu_before) / args.recalls
    return best, count, cpu


def time_http_recalls(args, token: str, item_id: int, lot_code: str, server_pid: int) -> tuple[list[float], dict, float]:
    """POST a recall and wait until its job is done (the report is stored, not downloaded);
    also the CPU it took gunicorn and PostgreSQL, per recall."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    base = f"http://127.0.0.1:{args.port}/api/v1/recalls/"
    timings = []
    job: dict = {}
    workers, backends = service_pids(args, server_pid)
    cpu_before = sum(cpu_seconds(pid) for pid in workers + backends)
    for n in range(args.recalls):
        started = time.perf_counter()
        response = session.post(base, json={"lot": lot_code, "item": item_id, "reason": f"Bench recall {n}"})
        assert response.status_code == 202, response.text
        job = response.json()
        while job["status"] not in ("done", "failed"):
            time.sleep(0.05)
            job = session.get(f"{base}?status=done&lot={job['lot']}").json()["results"][0]
        timings.append(time.perf_counter() - started)
        assert job["status"] == "done", job
    cpu = (sum(cpu_seconds(pid) for pid in workers + backends) - cpu_before) / args.recalls
    return timings, job, cpu


def explain_backward(cursor_factory, phones: int) -> None:
    from inventory.selectors.trace import MAX_DEPTH, tree_sql

    start = -random.randint(1, phones)
    with cursor_factory() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, SETTINGS) " + tree_sql("backward"), [start, MAX_DEPTH])
        print("\n".join(row[0] for row in cur.fetchall()))


def main() -> None:
    args = parse_args()
    database_url = f"{args.pg_url}/{args.db}"
    if not args.reuse:
        log(f"creating database {args.db}")
        create_database(args)
    setup_django(database_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if args.reuse:
        from rest_framework.authtoken.models import Token

        info = {"token": Token.objects.get(user__username="bench-quality").key, "build_seconds": None}
    else:
        info = build(args, connection.cursor)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM inventory_genealogylink")
        links = cur.fetchone()[0]
    log(f"{links} genealogy links")
    connection.close()
    item_id, lot_code, expected = recall_lot(args.phones)
    from inventory.models import Lot

    lot_id = Lot.objects.get(item_id=item_id, code=lot_code).pk
    if not args.cold:
        prewarm(connection.cursor)
    if args.explain:
        explain_backward(connection.cursor, args.phones)
    if args.priority:
        os.nice(-args.priority)  # gunicorn, started below, inherits it
        prioritize(args)
    bare, leaves, bare_cpu = time_bare_recall(args, connection.cursor, lot_id)
    connection.close()

    log("starting gunicorn")
    server = start_server(args, database_url)
    try:
        p50, p95, nodes, app_ms, db_ms = time_backward_traces(args, info["token"], server.pid)
        recalls, job, recall_cpu = time_http_recalls(args, info["token"], item_id, lot_code, server.pid)
    finally:
        stop_server(server)

    figures = {
        "phones": args.phones,
        "warm": not args.cold,
        "load_average": os.getloadavg()[0],
        "priority": args.priority,
        "links": links,
        "build_seconds": info["build_seconds"],
        "backward_trace_nodes": nodes,
        "backward_trace_p50_ms": round(p50, 2),
        "backward_trace_p95_ms": round(p95, 2),
        "backward_trace_cpu_ms_app": round(app_ms, 2),
        "backward_trace_cpu_ms_db": round(db_ms, 2),
        "recall_lot": lot_code,
        "recall_affected": job.get("affected_count"),
        "recall_expected": expected,
        "recall_bare_query_s": round(bare, 3),
        "recall_bare_query_cpu_s": round(bare_cpu, 3),
        "recall_bare_leaves": leaves,
        "recall_http_s_best": round(min(recalls), 3),
        "recall_http_s_median": round(statistics.median(recalls), 3),
        "recall_http_cpu_s": round(recall_cpu, 3),
    }
    print()
    print(f"backward trace of a random finished serial over HTTP ({args.samples} requests, {nodes} nodes each): "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms  (target p95 < 20 ms)")
    print(f"  CPU per request: {app_ms:.1f} ms in gunicorn + {db_ms:.1f} ms in PostgreSQL; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores while measuring")
    print(f"recall of {lot_code} into {leaves} finished serials: recursive query {bare:.2f} s; "
          f"POST /recalls/ to job done {min(recalls):.2f} s best, {statistics.median(recalls):.2f} s median  (target < 3 s)")
    print(f"  CPU per recall: {bare_cpu:.2f} s for the query alone; {recall_cpu:.2f} s in gunicorn + PostgreSQL for the whole job")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
