"""Benchmark of the scheduling engine (no Django).

1. Classic job-shop instances under the makespan objective, against their
   proven optima, beside the dispatching rule.
2. A realistic plant: 500 work orders of 4–6 operations on 20 two-shift work
   centers over several weeks, weighted tardiness, CP-SAT beside the
   dispatching rule.

Run from the repository root: ``.venv/bin/python bench/schedule_engine.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._scenarios import make_realistic_problem  # noqa: E402
from orders.scheduling import Solution, check_solution, parse_orlibrary, solve, to_problem  # noqa: E402

INSTANCE_DIRS = (ROOT / "bench" / "jobshop", Path("/work/shared/benchmarks/jobshop"))
OPTIMA = {
    "ft06": 55,
    "ft10": 930,
    "ft20": 1165,
    "la01": 666,
    "la02": 655,
    "la03": 597,
    "la04": 590,
    "la05": 593,
    "la06": 926,
    "la07": 890,
    "la08": 863,
    "la09": 951,
    "la10": 958,
}


def gap(value: int, optimum: int) -> float:
    return 100.0 * (value - optimum) / optimum


def instance_path(name: str) -> Path | None:
    for folder in INSTANCE_DIRS:
        if (folder / f"{name}.txt").exists():
            return folder / f"{name}.txt"
    return None


def run_jobshop(names: list[str], seconds: float, workers: int) -> int:
    """Print the job-shop table; return how many instances missed their optimum."""
    header = f"{'instance':9} {'makespan':>8} {'optimum':>7} {'gap %':>6} {'status':>9} {'seconds':>8} {'rule':>6} {'rule gap %':>10}"
    print(header)
    print("-" * len(header))
    missed = 0
    for name in names:
        path = instance_path(name)
        if path is None:
            print(f"{name:9} (instance file not found)")
            continue
        problem = to_problem(parse_orlibrary(path.read_text()))
        solution = solve(problem, objective="makespan", time_limit_seconds=seconds, workers=workers)
        _assert_valid(problem, solution, name)
        optimum = OPTIMA[name]
        missed += solution.makespan != optimum
        print(
            f"{name:9} {solution.makespan:8d} {optimum:7d} {gap(solution.makespan, optimum):6.1f} "
            f"{solution.status:>9} {solution.wall_seconds:8.1f} {solution.heuristic_makespan:6d} "
            f"{gap(solution.heuristic_makespan, optimum):10.1f}"
        )
    return missed


def run_realistic(seed: int, seconds: float, workers: int) -> None:
    problem = make_realistic_problem(seed)
    started = time.perf_counter()
    rule = solve(problem, objective="heuristic")
    rule_seconds = time.perf_counter() - started
    solution = solve(problem, objective="weighted_tardiness", time_limit_seconds=seconds, workers=workers, seed=seed)
    _assert_valid(problem, rule, "realistic (rule)")
    _assert_valid(problem, solution, "realistic (CP-SAT)")
    print(
        f"\nRealistic plant (seed {seed}): {len(problem.jobs)} work orders, {len(problem.tasks)} operations, "
        f"{len(problem.resources)} work centers, two shifts Mon–Fri"
    )
    header = f"{'engine':16} {'w. tardiness':>12} {'late':>5} {'makespan (d)':>12} {'status':>9} {'seconds':>8}"
    print(header)
    print("-" * len(header))
    for label, result, wall in (("dispatching rule", rule, rule_seconds), ("CP-SAT", solution, solution.wall_seconds)):
        print(
            f"{label:16} {result.weighted_tardiness:12d} {len(result.late_jobs):5d} "
            f"{result.makespan / 1440:12.2f} {result.status:>9} {wall:8.2f}"
        )
    ratio = solution.weighted_tardiness / max(rule.weighted_tardiness, 1)
    print(f"CP-SAT / rule weighted tardiness: {ratio:.2f} (lower bound {solution.lower_bound})")


def _assert_valid(problem, solution: Solution, label: str) -> None:
    violations = check_solution(problem, solution)
    if violations:
        raise SystemExit(f"{label}: {len(violations)} violations, e.g. {violations[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve (default 60)")
    parser.add_argument("--workers", type=int, default=0, help="CP-SAT workers, 0 = all cores")
    parser.add_argument("--instances", nargs="*", default=list(OPTIMA), help="job-shop instances to run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the realistic plant")
    parser.add_argument("--skip-jobshop", action="store_true")
    parser.add_argument("--skip-realistic", action="store_true")
    args = parser.parse_args()
    if not args.skip_jobshop:
        run_jobshop(args.instances, args.time_limit, args.workers)
    if not args.skip_realistic:
        run_realistic(args.seed, args.time_limit, args.workers)


if __name__ == "__main__":
    main()
