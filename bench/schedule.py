"""Finite-capacity scheduling through the real models, the loader and the scheduling job.

1. The classic job-shop instances in ``bench/jobshop/`` (ft06, ft10, ft20, la01–la10; optima in
   its README): each is loaded with ``manage.py load_jobshop`` (always-open machines, released
   work orders), scheduled by a schedule run (objective ``makespan``, the job run in-process as
   Celery does without a broker), its published plan checked from the database (no overlap, routing
   order), then its orders cancelled so the next instance starts from an empty shop. Prints the
   makespan, the optimum, the gap, the solver status, the seconds, and the dispatching rule's
   makespan and gap beside it.
2. A realistic plant: ``bench/_scenarios.make_realistic_problem`` (500 work orders of 4–6
   operations on 20 work centers with two-shift calendars, due dates and priorities) built as
   calendars, work centers, items, routings and released work orders through the services, then
   one schedule run (weighted tardiness) against the dispatching rule's weighted tardiness.

    .venv/bin/python bench/schedule.py                      # everything, 60 s per run
    .venv/bin/python bench/schedule.py --instances ft06,la01 --time-limit 10 --skip-realistic
    .venv/bin/python bench/schedule.py --database-url postgres://postgres@127.0.0.1:5432/mes_bench_schedule

By default the data lives in a fresh SQLite file in a temporary directory (the solver dominates
the time; the database only holds the orders and receives the plan).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

JOBSHOP = ROOT / "bench" / "jobshop"
INSTANCES = ["ft06", "ft10", "ft20", *(f"la{n:02d}" for n in range(1, 11))]


def optima() -> dict[str, int]:
    table = (JOBSHOP / "README.md").read_text()
    return {name: int(value) for name, value in re.findall(r"^\| (\w+) \| [^|]+ \| (\d+) \|$", table, flags=re.M)}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def setup(database_url: str | None) -> None:
    if database_url is None:
        directory = tempfile.mkdtemp(prefix="mes-bench-schedule-")
        database_url = f"sqlite:///{directory}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("CELERY_BROKER_URL", None)  # eager: the job runs in this process
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=os.environ, check=True)
    import django

    django.setup()


def planner():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, _ = get_user_model().objects.get_or_create(username="bench-planner")
    user.groups.add(Group.objects.get(name="planner"))
    return user


def run_schedule(*, user, **inputs):
    """Start a run; without a broker its job runs as the start commits. Returns (run, seconds)."""
    from orders.models import ScheduleRun
    from orders.services.scheduling import schedule_run_start

    started = time.perf_counter()
    run = schedule_run_start(user=user, **inputs)
    run = ScheduleRun.objects.get(pk=run.pk)
    return run, time.perf_counter() - started


def check_plan(numbers_prefix: str) -> str:
    """Verify the published plan from the database: every operation planned, one at a time per
    unit of each work center, in routing order."""
    from orders.models import WorkOrderOperation

    ops = list(
        WorkOrderOperation.objects.filter(work_order__number__startswith=numbers_prefix)
        .select_related("work_center")
        .order_by("work_order_id", "sequence")
    )
    if any(op.planned_start is None or op.planned_end is None for op in ops):
        return "UNPLANNED"
    events = defaultdict(list)
    for op in ops:
        events[op.work_center_id].append((op.planned_start, 1, op.work_center.capacity))
        events[op.work_center_id].append((op.planned_end, -1, op.work_center.capacity))
    for rows in events.values():
        level = 0
        for _, delta, capacity in sorted(rows, key=lambda e: (e[0], e[1])):
            level += delta
            if level > capacity:
                return "OVERLAP"
    previous = None
    for op in ops:
        if previous is not None and previous.work_order_id == op.work_order_id and op.planned_start < previous.planned_end:
            return "ROUTING"
        previous = op
    return "ok"


def cancel(prefix: str, user) -> None:
    from orders.models import WorkOrder
    from orders.services import work_order_cancel

    for order in WorkOrder.objects.filter(number__startswith=prefix, status="released"):
        work_order_cancel(work_order=order, user=user, reason="benchmark instance done")


def gap(value: int | None, reference: int) -> str:
    if value is None:
        return "—"
    return f"{100.0 * (value - reference) / reference:.1f}"


def jobshop_benchmark(names: list[str], time_limit: int, user) -> list[dict]:
    from django.core.management import call_command

    best = optima()
    rows = []
    header = f"{'instance':8} {'size':>6} {'makespan':>8} {'optimum':>7} {'gap %':>6} {'status':>9} {'solver s':>8} {'job s':>6} {'rule':>6} {'rule gap %':>10} plan"
    print(header)
    print("-" * len(header))
    for name in names:
        prefix = f"{name.upper()}-"
        call_command("load_jobshop", str(JOBSHOP / f"{name}.txt"), prefix=prefix, stdout=open(os.devnull, "w"))
        run, seconds = run_schedule(user=user, objective="makespan", time_limit_seconds=time_limit)
        verdict = check_plan(prefix) if run.status == "done" else run.status
        optimum = best[name]
        jobs, machines = (JOBSHOP / f"{name}.txt").read_text().split("\n", 1)[0].split()
        row = {
            "instance": name,
            "size": f"{jobs}x{machines}",
            "makespan": run.makespan_minutes,
            "optimum": optimum,
            "gap": gap(run.makespan_minutes, optimum),
            "status": run.solver_status,
            "solver_seconds": run.wall_seconds,
            "job_seconds": seconds,
            "rule": run.heuristic_makespan_minutes,
            "rule_gap": gap(run.heuristic_makespan_minutes, optimum),
            "plan": verdict,
        }
        rows.append(row)
        print(
            f"{name:8} {row['size']:>6} {row['makespan']!s:>8} {optimum:>7} {row['gap']:>6} {row['status']:>9} "
            f"{row['solver_seconds'] or 0:>8.1f} {seconds:>6.1f} {row['rule']!s:>6} {row['rule_gap']:>10} {verdict}",
            flush=True,
        )
        cancel(prefix, user)
    at_optimum = sum(1 for row in rows if row["makespan"] == row["optimum"])
    proven = sum(1 for row in rows if row["status"] == "optimal")
    print(f"\n{at_optimum}/{len(rows)} at the optimum ({proven} proven optimal), load average {load()}\n")
    return rows


def build_plant(problem, monday: dt.datetime, user) -> None:
    """The scenario as real rows: one two-shift calendar, work centers, items, routings, released orders."""
    from decimal import Decimal

    from bench._scenarios import SHIFTS
    from inventory.models import Item
    from inventory.services import item_create
    from orders import services

    calendar = services.calendar_create(
        data={
            "code": "BENCH-2SHIFT",
            "name": "Two shifts, Monday to Friday",
            "timezone": "UTC",
            "shifts": [
                {"weekday": day, "start": dt.time(begin // 60, begin % 60), "end": dt.time(end // 60, end % 60), "name": f"shift {n + 1}"}
                for day in range(5)
                for n, (begin, end) in enumerate(SHIFTS)
            ],
        }
    )
    centers = {
        r.id: services.work_center_create(
            data={"code": f"BENCH-{r.id}", "name": f"Work center {r.id}", "capacity": r.capacity, "calendar": calendar,
                  "allow_split_across_breaks": r.allow_split}
        )
        for r in problem.resources
    }
    tasks = defaultdict(list)
    for task in problem.tasks:
        tasks[task.job_id].append(task)
    for job in problem.jobs:
        item = item_create(data={"code": f"BENCH-{job.id}", "name": f"Part {job.id}", "kind": Item.Kind.MANUFACTURED})
        route = sorted(tasks[job.id], key=lambda t: t.sequence)
        services.routing_create(
            data={
                "item": item,
                "revision": "A",
                "status": "active",
                "operations": [
                    {
                        "sequence": t.sequence,
                        "name": f"Operation {t.sequence}",
                        "work_center": centers[t.resource_id],
                        "setup_minutes": Decimal(t.duration // 5),
                        "run_minutes_per_unit": Decimal(t.duration - t.duration // 5),
                    }
                    for t in route
                ],
            }
        )
        order = services.work_order_create(
            data={
                "number": f"BENCH-{job.id}",
                "item": item,
                "quantity": Decimal(1),
                "priority": 10 * (job.weight - 1) + 5,  # weight 1 + priority // 10 = the scenario's weight
                "due_at": monday + dt.timedelta(minutes=job.due),
                "release_time": monday + dt.timedelta(minutes=job.release),
            },
            user=user,
        )
        services.work_order_release(work_order=order, user=user)


def weighted_tardiness(problem, schedule) -> int:
    finish: dict = defaultdict(int)
    for task in problem.tasks:
        finish[task.job_id] = max(finish[task.job_id], schedule.ends[task.id])
    return sum(job.weight * max(finish[job.id] - job.due, 0) for job in problem.jobs if job.due is not None)


def realistic_benchmark(time_limit: int, user, seed: int) -> dict:
    from bench._scenarios import make_realistic_problem
    from orders.scheduling import dispatch

    problem = make_realistic_problem(seed)
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today + dt.timedelta(days=7 - today.weekday())
    started = time.perf_counter()
    build_plant(problem, monday, user)
    built = time.perf_counter() - started
    operations = len(problem.tasks)
    print(f"realistic plant: {len(problem.jobs)} work orders, {operations} operations, {len(problem.resources)} work centers "
          f"(built and released through the services in {built:.0f} s)")
    rule_direct = dispatch(problem)
    run, seconds = run_schedule(user=user, horizon_start=monday, objective="weighted_tardiness", time_limit_seconds=time_limit)
    verdict = check_plan("BENCH-") if run.status == "done" else run.status
    ratio = run.weighted_tardiness / run.heuristic_weighted_tardiness if run.heuristic_weighted_tardiness else float("nan")
    print(f"  run #{run.pk}: {run.status}, solver {run.solver_status}, plan {verdict}")
    print(f"  weighted tardiness  CP-SAT {run.weighted_tardiness:>9}   rule {run.heuristic_weighted_tardiness:>9}   ratio {ratio:.3f} (target ≤ 0.5)")
    print(f"  late orders         CP-SAT {run.late_orders:>9}   rule {run.heuristic_late_orders:>9}")
    print(f"  makespan (min)      CP-SAT {run.makespan_minutes:>9}   rule {run.heuristic_makespan_minutes:>9}")
    print(f"  lower bound on weighted tardiness: {run.lower_bound}")
    print(f"  solver {run.wall_seconds:.1f} s, whole job (read, solve, publish) {seconds:.1f} s, load average {load()}")
    if rule_direct is not None:
        print(f"  (the rule on the scenario's problem itself: weighted tardiness {weighted_tardiness(problem, rule_direct)})")
    return {"run": run, "ratio": ratio, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=int, default=60, help="seconds per run (default 60)")
    parser.add_argument("--instances", default=",".join(INSTANCES), help="comma-separated (default: all 13)")
    parser.add_argument("--skip-jobshop", action="store_true")
    parser.add_argument("--skip-realistic", action="store_true")
    parser.add_argument("--seed", type=int, default=0, help="seed of the realistic scenario")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    setup(args.database_url)
    user = planner()
    print(f"cores {os.cpu_count()}, load average at start {load()}\n")
    if not args.skip_jobshop:
        jobshop_benchmark([n.strip() for n in args.instances.split(",") if n.strip()], args.time_limit, user)
    if not args.skip_realistic:
        realistic_benchmark(args.time_limit, user, args.seed)


if __name__ == "__main__":
    main()
