"""Independent verification of a schedule against its problem."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Protocol

from .index import ProblemIndex
from .problem import Problem, Task


class HasTimes(Protocol):
    starts: Mapping[Hashable, int]
    ends: Mapping[Hashable, int]


def check_solution(problem: Problem, solution: HasTimes) -> list[str]:
    """List every violated rule; an empty list means the schedule is feasible.

    Checked: every task placed; frozen tasks unmoved; release and time zero;
    horizon; calendar (closed time, one window for unsplit tasks, exact working
    minutes for split ones); routing order; capacity. An overload made of
    frozen tasks alone is input data, not a violation.
    """
    index = ProblemIndex.build(problem)
    missing = [t.id for t in problem.tasks if t.id not in solution.starts or t.id not in solution.ends]
    if missing:
        return [f"task {task_id!r} is not scheduled" for task_id in missing]
    violations: list[str] = []
    for task in problem.tasks:
        violations.extend(_task_violations(index, solution, task))
    for job in problem.jobs:
        violations.extend(routing_violations(index, solution, job.id))
    for resource in problem.resources:
        violations.extend(capacity_violations(index, solution, resource.id))
    return violations


def _task_violations(index: ProblemIndex, solution: HasTimes, task: Task) -> list[str]:
    start, end = solution.starts[task.id], solution.ends[task.id]
    if task.is_frozen:
        expected = index.frozen[task.id]
        if (start, end) != expected:
            return [f"frozen task {task.id!r} moved from {expected} to {(start, end)}"]
        return []
    found: list[str] = []
    job = index.jobs[task.job_id]
    if start < max(job.release, 0):
        found.append(f"task {task.id!r} starts at {start} before release {max(job.release, 0)}")
    horizon = index.problem.horizon
    if horizon is not None and end > horizon:
        found.append(f"task {task.id!r} ends at {end} after the horizon {horizon}")
    split = index.is_split(task)
    if not index.calendar_of(task).is_valid(start, end, task.duration, split):
        rule = "working minutes over open time" if split else "minutes inside one open window"
        found.append(f"task {task.id!r} at [{start}, {end}) is not {task.duration} {rule}")
    return found


def routing_violations(index: ProblemIndex, solution: HasTimes, job_id: Hashable) -> list[str]:
    found: list[str] = []
    latest_end: int | None = None
    latest_id: Hashable = None
    for task in index.routings[job_id]:
        start = solution.starts[task.id]
        if not task.is_frozen and latest_end is not None and start < latest_end:
            found.append(f"task {task.id!r} starts at {start} before task {latest_id!r} ends at {latest_end}")
        end = solution.ends[task.id]
        if latest_end is None or end > latest_end:
            latest_end, latest_id = end, task.id
    return found


def capacity_violations(index: ProblemIndex, solution: HasTimes, resource_id: Hashable) -> list[str]:
    capacity = index.resources[resource_id].capacity
    events: list[tuple[int, int, int, Hashable]] = []
    for task in index.problem.tasks:
        if task.resource_id != resource_id:
            continue
        start, end = solution.starts[task.id], solution.ends[task.id]
        if end > start:
            frozen = 1 if task.is_frozen else 0
            events.append((start, 1, frozen, task.id))
            events.append((end, -1, frozen, task.id))
    events.sort(key=lambda e: (e[0], e[1]))
    found: list[str] = []
    busy: set[Hashable] = set()
    frozen_busy = 0
    for time, delta, frozen, task_id in events:
        if delta < 0:
            busy.discard(task_id)
            frozen_busy -= frozen
            continue
        busy.add(task_id)
        frozen_busy += frozen
        if len(busy) > max(capacity, frozen_busy):
            found.append(
                f"resource {resource_id!r} runs {len(busy)} tasks at {time} (capacity {capacity}): {sorted(map(repr, busy))}"
            )
    return found
