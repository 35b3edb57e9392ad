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
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Components per phone: (item code, tracking, lots of how many phones, level)
PHONE_PARTS = [("DSP-61", "serial", None), ("BAT-4000", "lot", 10_000), ("HSG-100", "lot", 5_000), ("SCR-M1", "lot", 50_000)]
BOARD_PARTS = [("PCB-100", "lot", 5_000), ("SOC-A1", "lot", 125_000), ("MEM-8G", "lot", 20_000), ("SLD-PASTE", "lot", 2_000), ("CAP-100N", "lot", 10_000)]
RECALL_ITEM = "SOC-A1"


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


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def create_database(args) -> None:
    import psycopg

    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.db}"')


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    import django

    django.setup()


def lot_plan(phones: int) -> list[tuple[str, str, int, int]]:
    """(item code, level, phones per lot, lot count) of every lot-tracked part."""
    plan = []
    for parts, level in ((PHONE_PARTS, "phone"), (BOARD_PARTS, "board")):
        for code, tracking, size in parts:
            if tracking == "lot":
                size = min(size, max(phones // 8, 1)) if code == RECALL_ITEM else size
                plan.append((code, level, size, -(-phones // size)))
    return plan


def build(args, cursor_factory) -> dict:
    """Write items, locations, lots, serials and links with set-based SQL; return the ids used."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from inventory import demo
    from inventory.models import Item, Location

    demo.load_master_data()
    customer, _ = Location.objects.update_or_create(
        code="CUSTOMER", defaults={"name": "Shipped to customers", "kind": "site", "purpose": "customer"}
    )
    items = {item.code: item.pk for item in Item.objects.all()}
    locations = {loc.code: loc.pk for loc in Location.objects.all()}
    user, _ = get_user_model().objects.get_or_create(username="bench-quality")
    user.groups.add(Group.objects.get(name="quality"))
    token, _ = Token.objects.get_or_create(user=user)

    n = args.phones
    plan = lot_plan(n)
    t0 = time.perf_counter()
    with cursor_factory() as cur:
        # The generator is consistent by construction: foreign-key triggers are off for the load.
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET max_parallel_maintenance_workers = 1")
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'inventory_genealogylink' AND indexname LIKE 'genealogy_%%'")
        link_indexes = [row[0] for row in cur.fetchall()]
        for definition in link_indexes:
            cur.execute("DROP INDEX " + definition.split(" INDEX ")[1].split(" ON ")[0])

        # Lots: ids from 1, by part; lot k of a part covers phones [k*size+1, (k+1)*size].
        lot_base = {}
        next_id = 1
        for code, _level, size, count in plan:
            lot_base[code] = next_id
            cur.execute(
                """
                INSERT INTO inventory_lot (id, item_id, code, status, expires_on, supplier_lot, created_at)
                SELECT %s + k, %s, %s || '-L' || lpad(k::text, 5, '0'), 'consumed', NULL, 'SUP-' || k,
                       timestamptz '2026-01-01' + k * interval '1 hour'
                FROM generate_series(0, %s - 1) k
                """,
                [next_id, items[code], code, count],
            )
            next_id += count
        log(f"lots: {next_id - 1}")

        # Serials: phones 1..n, boards n+1..2n, displays 2n+1..3n.
        fg, shipped = locations["FG"], customer.pk
        cur.execute(
            """
            INSERT INTO inventory_serialnumber (id, item_id, code, status, current_location_id, lot_id, created_at)
            SELECT i, %s, 'PHN' || lpad(i::text, 8, '0'), 'available',
                   CASE WHEN i %% 5 = 0 THEN %s ELSE %s END, NULL,
                   timestamptz '2026-01-01' + i * interval '30 seconds'
            FROM generate_series(1, %s) i
            """,
            [items["PHN-100"], fg, shipped, n],
        )
        for offset, code, prefix in ((n, "MBD-100", "MBD"), (2 * n, "DSP-61", "DSP")):
            cur.execute(
                """
                INSERT INTO inventory_serialnumber (id, item_id, code, status, current_location_id, lot_id, created_at)
                SELECT %s + i, %s, %s || lpad(i::text, 8, '0'), 'consumed', NULL, NULL,
                       timestamptz '2026-01-01' + i * interval '30 seconds'
                FROM generate_series(1, %s) i
                """,
                [offset, items[code], prefix, n],
            )
        log(f"serials: {3 * n} ({time.perf_counter() - t0:.0f} s)")

        # Links. Work orders of 1,000 phones; operation 1 builds boards, operation 2 assembles.
        common = "1.000, 'production_report', '', timestamptz '2026-01-01' + i * interval '30 seconds'"
        cur.execute(
            f"""
            INSERT INTO inventory_genealogylink (consumed_lot_id, consumed_serial_id, produced_lot_id, produced_serial_id,
                consumed_key, produced_key, quantity, document_type, document_id, created_at, work_order_id, operation_id)
            SELECT NULL, s.sid, NULL, i, -s.sid, -i, {common}, (i - 1) / 1000 + 1, ((i - 1) / 1000 + 1) * 10 + 2
            FROM generate_series(1, %s) i
            CROSS JOIN LATERAL (VALUES (%s + i), (%s + i)) AS s(sid)
            """,
            [n, n, 2 * n],
        )
        log(f"links phone <- board, display ({time.perf_counter() - t0:.0f} s)")
        for parts, produced in ((PHONE_PARTS, "phone"), (BOARD_PARTS, "board")):
            lots = [(code, size) for code, level, size, _count in plan if level == produced]
            values = ", ".join(f"({lot_base[code]} + (i - 1) / {size})" for code, size in lots)
            produced_id = "i" if produced == "phone" else f"{n} + i"
            operation = 2 if produced == "phone" else 1
            cur.execute(
                f"""
                INSERT INTO inventory_genealogylink (consumed_lot_id, consumed_serial_id, produced_lot_id, produced_serial_id,
                    consumed_key, produced_key, quantity, document_type, document_id, created_at, work_order_id, operation_id)
                SELECT l.lid, NULL, NULL, {produced_id}, l.lid, -({produced_id}), {common},
                       (i - 1) / 1000 + 1, ((i - 1) / 1000 + 1) * 10 + {operation}
                FROM generate_series(1, %s) i
                CROSS JOIN LATERAL (VALUES {values}) AS l(lid)
                """,
                [n],
            )
            log(f"links {produced} <- lots ({time.perf_counter() - t0:.0f} s)")
        for table in ("inventory_lot", "inventory_serialnumber", "inventory_genealogylink"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        for definition in link_indexes:
            started = time.perf_counter()
            cur.execute(definition)
            log(f"{definition.split(' INDEX ')[1].split(' ON ')[0]} built in {time.perf_counter() - started:.0f} s")
    with cursor_factory() as cur:
        cur.execute("VACUUM (ANALYZE) inventory_genealogylink")
        cur.execute("VACUUM (ANALYZE) inventory_serialnumber")
        cur.execute("VACUUM (ANALYZE) inventory_lot")
    build_seconds = time.perf_counter() - t0
    log(f"built: {n} phones in {build_seconds:.0f} s")
    return {"token": token.key, "build_seconds": build_seconds}


def recall_lot(phones: int) -> tuple[int, str, int]:
    """The first system-on-chip lot (item id, code) and how many phones it went into."""
    from inventory.models import Item

    size = [size for code, _level, size, _count in lot_plan(phones) if code == RECALL_ITEM][0]
    return Item.objects.get(code=RECALL_ITEM).pk, f"{RECALL_ITEM}-L00000", min(size, phones)


def start_server(args, database_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_USER": "1000000/minute",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "mes.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    import requests

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{args.port}/health/", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise SystemExit("gunicorn did not come up")


def stop_server(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    server.wait(timeout=30)


def prioritize(args) -> None:
    """Give this database's PostgreSQL backends the bench's CPU priority (see ``--priority``)."""
    if not args.priority:
        return
    import psycopg

    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
        pids = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [args.db])]
    for pid in pids:
        try:
            os.setpriority(os.PRIO_PROCESS, pid, -args.priority)
        except (PermissionError, ProcessLookupError):
            pass


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_pids(args, server_pid: int) -> tuple[list[int], list[int]]:
    """gunicorn's worker processes and the PostgreSQL backends serving this database."""
    import psycopg

    workers = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == server_pid:
                        workers.append(int(entry))
            except OSError:
                continue
    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
        backends = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [args.db])]
    return workers, backends


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
    app_before = sum(_cpu_seconds(pid) for pid in workers)
    db_before = sum(_cpu_seconds(pid) for pid in backends)
    timings = []
    nodes = 0
    for _ in range(args.samples):
        elapsed, tree = get(f"PHN{rng.randint(1, args.phones):08d}")
        timings.append(elapsed)
        nodes = tree["node_count"]
    app_ms = (sum(_cpu_seconds(pid) for pid in workers) - app_before) * 1000 / args.samples
    db_ms = (sum(_cpu_seconds(pid) for pid in backends) - db_before) * 1000 / args.samples
    return percentile(timings, 0.5), percentile(timings, 0.95), nodes, app_ms, db_ms


PREWARM = [
    "inventory_serialnumber",
    "serial_code_idx",
    "inventory_serialnumber_pkey",
    "genealogy_backward_cover_idx",
    "genealogy_forward_idx",
    "inventory_lot",
    "inventory_lot_pkey",
    "inventory_item",
]


def prewarm(cursor_factory) -> None:
    """Read what traces touch into memory, as a running plant's database would have it (this
    server keeps PostgreSQL's default 128 MB of shared buffers, so it is the OS page cache)."""
    started = time.perf_counter()
    with cursor_factory() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for relation in PREWARM:
            cur.execute("SELECT pg_prewarm(%s, 'read')", [relation])
    log(f"read {len(PREWARM)} relations into memory in {time.perf_counter() - started:.0f} s")


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
        cpu_before = _cpu_seconds(backend)
        for _ in range(args.recalls):
            started = time.perf_counter()
            cur.execute(sql, [lot_id, MAX_DEPTH])
            count = len(cur.fetchall())
            elapsed = time.perf_counter() - started
            best = elapsed if best is None else min(best, elapsed)
        cpu = (_cpu_seconds(backend) - cpu_before) / args.recalls
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
    cpu_before = sum(_cpu_seconds(pid) for pid in workers + backends)
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
    cpu = (sum(_cpu_seconds(pid) for pid in workers + backends) - cpu_before) / args.recalls
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
