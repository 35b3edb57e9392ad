"""OR-Library job-shop instances (``jobs machines`` then ``machine time`` pairs per job)."""

from __future__ import annotations

from dataclasses import dataclass

from .problem import Job, Problem, Resource, Task


@dataclass(frozen=True)
class JobShopInstance:
    """A classic job shop: ``operations[j]`` lists ``(machine, time)`` in routing order."""

    jobs: int
    machines: int
    operations: list[list[tuple[int, int]]]


def parse_orlibrary(text: str) -> JobShopInstance:
    """Parse one instance; name, comment (``#``) and ``+++`` lines are skipped."""
    rows = [row for row in (_numbers(line) for line in text.splitlines()) if row is not None]
    if not rows or len(rows[0]) != 2:
        raise ValueError("missing 'jobs machines' header line")
    jobs, machines = rows[0]
    if len(rows) < jobs + 1:
        raise ValueError(f"expected {jobs} job lines, found {len(rows) - 1}")
    operations = [_pairs(row, machines, number) for number, row in enumerate(rows[1 : jobs + 1])]
    return JobShopInstance(jobs, machines, operations)


def to_problem(instance: JobShopInstance) -> Problem:
    """One always-open unit resource per machine, one job per line."""
    resources = [Resource(id=m) for m in range(instance.machines)]
    jobs = [Job(id=j) for j in range(instance.jobs)]
    tasks = [
        Task(id=(j, k), job_id=j, sequence=k, resource_id=machine, duration=duration)
        for j, route in enumerate(instance.operations)
        for k, (machine, duration) in enumerate(route)
    ]
    return Problem(resources=resources, jobs=jobs, tasks=tasks)


def _numbers(line: str) -> list[int] | None:
    tokens = line.split("#", 1)[0].split()
    if not tokens:
        return None
    try:
        return [int(token) for token in tokens]
    except ValueError:
        return None


def _pairs(row: list[int], machines: int, number: int) -> list[tuple[int, int]]:
    if len(row) % 2:
        raise ValueError(f"job line {number}: odd number of values")
    pairs = [(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    for machine, duration in pairs:
        if not 0 <= machine < machines or duration < 0:
            raise ValueError(f"job line {number}: bad operation ({machine}, {duration})")
    return pairs
