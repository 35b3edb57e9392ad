"""Production report throughput over HTTP, on PostgreSQL under gunicorn.

Creates its own database (``mes_bench_reports``, on the machine's PostgreSQL: over its Unix
socket when it has one, else 127.0.0.1:5432), migrates it, and seeds a plant: ``--products``
serial-tracked boards, each made on its own SMT work center from three lot-tracked components
(several lots each, received at the line side), and one released, running work order per
tablet (client). Then it starts the application under gunicorn on 127.0.0.1 against that
database and drives ``--clients`` tablets (threads with kept-alive HTTP connections, spread over
``--processes`` client processes) for ``--duration`` seconds. Every request is
``POST /api/v1/operations/{id}/reports/`` with its own ``Idempotency-Key``: one good board,
consuming three lots (one of each component) and producing one new serial number. A share of
the requests (``--retry-share``) is sent again with the same key, as a tablet does when the
answer was lost: it must come back replayed, with the same report.

Afterwards it checks, from the database: the ledger invariant
(``inventory.selectors.ledger_discrepancies()`` is empty); every acknowledged report landed
exactly once (reports, issue moves, production moves and serials equal the acknowledged
requests; nothing from refused or retried requests); every retry was a replay of its first
answer. It prints reports per second and latency percentiles of the first attempts.

    .venv/bin/python bench/report_throughput.py                  # 60 s, defaults below
    .venv/bin/python bench/report_throughput.py --duration 10    # smoke run
    .venv/bin/python bench/report_throughput.py --products 1     # every tablet on one product
    .venv/bin/python bench/report_throughput.py --profile        # also count the statements of one report
    .venv/bin/python bench/report_throughput_profile.py          # statements and CPU of one report, no server
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _harness import database_url as database_at
from _cpu_meter import CpuMeter, reference_loop_ms
from _harness import stop_process_group, wait_until_serving
from report_throughput_plant import (
    create_database,
    log,
    profile_reports,
    seed,
    setup_django,
)


# The application's machine runs PostgreSQL too: over its Unix socket, as a one-machine
# installation connects (README), when it has one; else over TCP.
LOCAL_PG_URL = (
    "postgres://postgres@?host=/var/run/postgresql"
    if Path("/var/run/postgresql/.s.PGSQL.5432").exists()
    else "postgres://postgres@127.0.0.1:5432"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--pg-url", default=os.environ.get("MES_BENCH_PGURL", LOCAL_PG_URL),
        help="the PostgreSQL server (default: its Unix socket when it runs on this machine, else 127.0.0.1:5432)",
    )
    parser.add_argument("--db", default="mes_bench_reports")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (default 3)")
    parser.add_argument("--clients", type=int, default=8, help="tablets reporting at once (default 8)")
    parser.add_argument("--processes", type=int, default=2, help="client processes the tablets are spread over (default 2)")
    parser.add_argument("--products", type=int, default=4, help="products, each with its own components (default 4)")
    parser.add_argument("--lots", type=int, default=3, help="lots of each component (default 3)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (gthread when > 1, default 2: kept-alive connections)")
    parser.add_argument("--retry-share", type=float, default=0.05, help="share of requests sent twice with one key (default 0.05)")
    parser.add_argument("--broker", default=os.environ.get("MES_BENCH_BROKER", ""), help="CELERY_BROKER_URL for the server (default: eager)")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="before the run: statements of one report by owner and its time served alone (MES_BENCH_SHOW_SQL=1 prints them)")
    return parser.parse_args()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def start_server(args, database_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": args.broker,
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_USER": "10000000/minute",
    }
    command = [str(ROOT / ".venv/bin/gunicorn"), "mes.wsgi:application", "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers)]
    if args.threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(args.threads)]
    command += ["--log-level", "warning", "--timeout", "120", "--backlog", "512"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    wait_until_serving(server, args.port)
    return server


stop_server = stop_process_group


# --- the tablets --------------------------------------------------------------------------------


class Tablet:
    """One tablet's kept-alive HTTP/1.1 connection, spoken on a plain socket: the tablets share
    the server's machine here, and the standard library's client would spend CPU of its own
    that real tablets spend on their own hardware. A lost connection is opened again on the next
    request."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Token {token}\r\nContent-Type: application/json\r\n".encode()
        self.sock = None
        self.buffer = b""

    def post(self, path: str, body: bytes, key: str) -> tuple[int, dict, dict]:
        """(status, JSON body, headers with lower-case names)."""
        import json
        import socket

        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        request = b"".join([
            b"POST ", path.encode(), b" HTTP/1.1\r\n", self.head, b"Idempotency-Key: ", key.encode(),
            b"\r\nContent-Length: ", str(len(body)).encode(), b"\r\n\r\n", body,
        ])
        try:
            self.sock.sendall(request)
            status, headers, payload = self._response()
        except (OSError, ValueError):
            self.close()
            raise ConnectionError("the answer was lost") from None
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, json.loads(payload) if payload else {}, headers

    def _receive(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def _response(self) -> tuple[int, dict, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._receive()
        payload, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, payload

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""


def tablet_loop(tablet: dict, port: int, start_at: float, measure_from: float, stop_at: float, retry_share: float, seed: int, out: list) -> None:
    import json

    rng = random.Random(seed)
    client = Tablet(port, tablet["token"])
    path = f"/api/v1/operations/{tablet['operation']}/reports/"
    time.sleep(max(0.0, start_at - time.time()))
    n = 0
    while time.time() < stop_at:
        n += 1
        key = f"t{tablet['client']}-{uuid.uuid4().hex}"
        body = json.dumps({
            "quantity_good": "1",
            "consumed": tablet["consumed"],
            "produced_serials": [f"SN-{tablet['client']:02d}-{n:07d}-{uuid.uuid4().hex[:6]}"],
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        }).encode()
        sent = time.time()
        try:
            status, answer, _ = client.post(path, body, key)
            report = answer.get("id") if status == 201 else None
            code = None if status == 201 else answer.get("code", str(status))
        except OSError as exc:  # the answer was lost: retry with the same key, as a tablet does
            status, report, code = 0, None, type(exc).__name__
        took = time.time() - sent
        replayed = None
        if status == 0 or rng.random() < retry_share:
            again_status, again, headers = client.post(path, body, key)
            same = again_status == 201 and again.get("id") == report if status == 201 else again_status == 201
            replayed = (headers.get("idempotent-replayed") == "true" or status == 0, same, again.get("id") if again_status == 201 else None)
            if status == 0 and again_status == 201:
                status, report = 201, again["id"]
        out.append((sent >= measure_from, key, status, report, code, took, replayed))


def client_process(tablets: list[dict], args_dict: dict, start_at: float, queue) -> None:
    results: list = []
    threads = []
    for tablet in tablets:
        rows: list = []
        results.append(rows)
        thread = threading.Thread(
            target=tablet_loop,
            args=(tablet, args_dict["port"], start_at, start_at + args_dict["warmup"], start_at + args_dict["warmup"] + args_dict["duration"],
                  args_dict["retry_share"], args_dict["seed"] + tablet["client"], rows),
        )
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    queue.put([row for rows in results for row in rows])


def drive(args, tablets: list[dict], server) -> tuple[list, dict[str, float]]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 2.0
    groups = [tablets[i :: args.processes] for i in range(args.processes)]
    settings = {"port": args.port, "warmup": args.warmup, "duration": args.duration, "retry_share": args.retry_share, "seed": args.seed}
    processes = [context.Process(target=client_process, args=(group, settings, start_at, queue)) for group in groups if group]
    for process in processes:
        process.start()
    meter = CpuMeter(args, server, processes)
    sampler = threading.Thread(target=meter.run, args=(start_at + args.warmup, start_at + args.warmup + args.duration))
    sampler.start()
    rows = []
    for _ in processes:
        rows.extend(queue.get())
    for process in processes:
        process.join()
    sampler.join()
    return rows, meter.seconds()


# --- checks -------------------------------------------------------------------------------------


def check(rows: list, tablets: list[dict]) -> list[str]:
    from django.db.models import Sum

    from inventory.models import SerialNumber, StockMove
    from inventory.selectors import ledger_discrepancies
    from orders.models import ProductionReport, WorkOrderOperation

    problems = []
    acknowledged = {row[1]: row[3] for row in rows if row[2] == 201}
    ids = list(acknowledged.values())
    if len(set(ids)) != len(ids):
        problems.append(f"{len(ids) - len(set(ids))} acknowledged requests share a report")
    reports = set(ProductionReport.objects.values_list("pk", flat=True))
    if reports != set(ids):
        problems.append(f"reports in the database: {len(reports)}, acknowledged: {len(set(ids))} "
                        f"(lost: {len(set(ids) - reports)}, unacknowledged: {len(reports - set(ids))})")
    issues = StockMove.objects.filter(kind="issue", document_type="production_report").count()
    production = StockMove.objects.filter(kind="production", document_type="production_report").count()
    serials = SerialNumber.objects.filter(item__code__startswith="BRD-").count()
    if (issues, production, serials) != (3 * len(reports), len(reports), len(reports)):
        problems.append(f"moves: {issues} issues, {production} production, {serials} serials for {len(reports)} reports")
    good = WorkOrderOperation.objects.aggregate(total=Sum("quantity_good"))["total"] or 0
    if good != len(reports):
        problems.append(f"operations count {good} good for {len(reports)} reports")
    replays = [row[6] for row in rows if row[6] is not None]
    bad_replays = [r for r in replays if not (r[0] and r[1])]
    if bad_replays:
        problems.append(f"{len(bad_replays)} of {len(replays)} retries were not replays of their first answer")
    discrepancies = ledger_discrepancies()
    if discrepancies:
        problems.append(f"ledger discrepancies: {discrepancies[:5]}")
    return problems


def main() -> None:
    args = parse_args()
    database_url = database_at(args.pg_url, args.db)
    log(f"creating database {args.db}")
    create_database(args)
    setup_django(database_url, args.broker)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    log(f"seeding {args.products} product(s), {args.clients} tablets with a running order each")
    tablets = seed(args)
    if args.profile:
        profile_reports(tablets[0])
    connection.close()

    server = start_server(args, database_url)
    mode = f"gthread {args.workers}x{args.threads}" if args.threads > 1 else f"{args.workers} sync workers"
    log(f"gunicorn up ({mode}), PostgreSQL at {args.pg_url}; {args.clients} tablets in {args.processes} processes for {args.warmup:.0f}+{args.duration:.0f} s")
    reference_before = reference_loop_ms()
    load_before = os.getloadavg()
    try:
        rows, cpu = drive(args, tablets, server)
    finally:
        stop_server(server)
    load_after = os.getloadavg()
    reference_after = reference_loop_ms()

    measured = [row for row in rows if row[0]]
    ok = [row for row in measured if row[2] == 201]
    refused: dict[str, int] = {}
    for row in measured:
        if row[2] != 201:
            refused[row[4]] = refused.get(row[4], 0) + 1
    latencies = [row[5] * 1000 for row in ok]
    retries = sum(1 for row in rows if row[6] is not None)
    log("checking the ledger and that every report landed exactly once")
    problems = check(rows, tablets)

    print()
    print(f"reports acknowledged (measured window): {len(ok)} in {args.duration:.0f} s")
    print(f"reports per second:                    {len(ok) / args.duration:.1f}")
    if latencies:
        print(f"latency p50 / p95 / p99 (ms):          {percentile(latencies, 0.5):.1f} / {percentile(latencies, 0.95):.1f} / {percentile(latencies, 0.99):.1f}")
        print(f"latency mean (ms):                     {statistics.fmean(latencies):.1f}")
    print(f"refused or failed (measured window):   {sum(refused.values())} {refused or ''}")
    print(f"retries with the same key:             {retries} (all replays: {'yes' if not any('retries' in p for p in problems) else 'NO'})")
    print(f"all requests incl. warm-up:            {len(rows)}, acknowledged {sum(1 for r in rows if r[2] == 201)}")
    print(f"load average before / after:           {load_before[0]:.2f} / {load_after[0]:.2f}")
    print(f"reference loop before / after (ms):    {reference_before:.1f} / {reference_after:.1f} (the machine's speed; lower is faster)")
    if ok:
        cores = os.cpu_count() or 1
        own = cpu["web"] + cpu["database"] + cpu["clients"]
        per_report = {name: cpu[name] * 1000 / len(ok) for name in ("web", "database", "clients")}
        print(
            "CPU per report (ms):                   "
            + " + ".join(f"{name} {value:.1f}" for name, value in per_report.items())
            + f" = {own * 1000 / len(ok):.1f}"
        )
        print(f"CPU the run got / the machine used:    {own / args.duration:.2f} / {cpu['machine'] / args.duration:.2f} of {cores} cores")
        print(f"CPU the host gave other guests (steal): {cpu['stolen'] / args.duration:.2f} of {cores} cores")
        print(f"ceiling on {cores} idle cores (CPU-bound): {cores * len(ok) / own:.0f} reports/s (server alone: {cores * len(ok) / (cpu['web'] + cpu['database']):.0f})")
    print(f"ledger and exactly-once checks:        {'OK' if not problems else 'FAILED'}")
    for problem in problems:
        print(f"  - {problem}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
