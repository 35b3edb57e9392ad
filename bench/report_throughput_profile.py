"""Statements and CPU of one production report on PostgreSQL, without a server or clients.

Creates its own database (``--db``, default ``mes_bench_reports_profile``), seeds the plant of
``bench/report_throughput.py`` (one product, one tablet), then serves the same report (3 lots
consumed, 1 serial produced) ``--samples`` times in this process, each in a transaction that is
rolled back, two ways: the service alone (``production_report_create``) and the whole API request
(``POST /api/v1/operations/{id}/reports/`` with an ``Idempotency-Key``). For each it prints the
statements of one report by owner and the median CPU (this process) and wall time; ``--cprofile``
also prints the functions where the API request spends its CPU.

    .venv/bin/python bench/report_throughput_profile.py
    .venv/bin/python bench/report_throughput_profile.py --cprofile 30 --show-sql
    MES_PROFILE_DUMP=/tmp/report.prof .venv/bin/python bench/report_throughput_profile.py --cprofile 1   # keep the stats
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _harness import database_url
from report_throughput_plant import Rollback, create_database, log, owner, post_report, seed, setup_django


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=os.environ.get("MES_BENCH_PGURL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="mes_bench_reports_profile")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--cprofile", type=int, default=0, help="print this many functions by own CPU time (API request)")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one API request")
    return parser.parse_args()


def measure(run, samples: int, capture: bool = True) -> tuple[list[str], float, float, object]:
    """Run ``run(n)`` in rolled-back transactions: the statements of the last run (with
    ``capture``: capturing them costs CPU of its own), median CPU and wall milliseconds (after
    three warm-up runs), and the last result."""
    import contextlib

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    cpu, wall, statements, result = [], [], [], None
    for n in range(samples + 3):
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            with transaction.atomic(), (CaptureQueriesContext(connection) if capture else contextlib.nullcontext()) as queries:
                result = run(n)
                raise Rollback
        except Rollback:
            pass
        if n >= 3:
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
        statements = [q["sql"] for q in queries.captured_queries] if capture else []
    measure.lowest = min(cpu)  # the least disturbed run: steadier than the median on a shared machine
    return statements, statistics.median(cpu), statistics.median(wall), result


def summary(name: str, statements: list[str], cpu: float, wall: float) -> None:
    by_owner: dict[str, int] = {}
    for sql in statements:
        by_owner[owner(sql)] = by_owner.get(owner(sql), 0) + 1
    log(f"{name}: {len(statements)} statements (" + ", ".join(f"{k} {v}" for k, v in sorted(by_owner.items())) + ")")
    log(f"{name}: median CPU {cpu:.1f} ms, wall {wall:.1f} ms (this process; the database's own CPU not counted)")


def main() -> None:
    args = parse_args()
    log(f"creating database {args.db}")
    create_database(args)
    setup_django(database_url(args.pg_url, args.db), "")
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from orders.services import production_report_create

    call_command("migrate", verbosity=0)
    tablet = seed(SimpleNamespace(products=1, clients=1, lots=3, duration=args.samples, warmup=10))[0]
    user = get_user_model().objects.get(username="tablet-00")

    def service(n: int):
        consumed = [{**row, "quantity": 1} for row in tablet["consumed"]]
        return production_report_create(
            operation=tablet["operation"], user=user, quantity_good=1, consumed=consumed, produced_serials=[f"SVC-{n}"]
        )

    client = Client(HTTP_AUTHORIZATION=f"Token {tablet['token']}")

    def request(n: int):
        return post_report(client, tablet, n, prefix="API")

    statements, cpu, wall, _ = measure(service, args.samples)
    summary("report service", statements, cpu, wall)
    statements, cpu, wall, _ = measure(request, args.samples)
    summary("API request", statements, cpu, wall)
    _, cpu, wall, _ = measure(request, args.samples, capture=False)
    log(f"API request, statements not captured: median CPU {cpu:.1f} ms (least {measure.lowest:.1f}), wall {wall:.1f} ms")
    if args.show_sql:
        for sql in statements:
            print(f"    [{owner(sql)}] {sql[:160]}")
    if args.cprofile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on the database
        profiler.enable()
        measure(request, args.samples, capture=False)
        profiler.disable()
        if os.environ.get("MES_PROFILE_DUMP"):
            profiler.dump_stats(os.environ["MES_PROFILE_DUMP"])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.cprofile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.cprofile)
        pstats.Stats(profiler).sort_stats("cumulative").print_callees("production_report_create|_issue_lines")


if __name__ == "__main__":
    main()
