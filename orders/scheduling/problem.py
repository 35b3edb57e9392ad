"""Input and output types of the finite-capacity scheduling engine.

The engine is a generic solver, so it speaks the language of scheduling
theory: a *resource* is a work center, a *job* is a work order and a *task*
is one operation of a work order's routing. All times are integer minutes
counted from the start of the planning horizon.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Objective = Literal["weighted_tardiness", "makespan", "heuristic"]
Status = Literal["optimal", "feasible", "heuristic", "infeasible"]
OBJECTIVES: tuple[str, ...] = ("weighted_tardiness", "makespan", "heuristic")


@dataclass(frozen=True)
class Resource:
    """A work center with ``capacity`` identical parallel units.

    ``open_intervals`` are the working windows ``(start, end)`` (half-open,
    sorted, disjoint); ``None`` means always open. Windows that touch (e.g.
    two consecutive shifts) are treated as one: a shift change is not a break.
    With ``allow_split`` a task may be interrupted by closed time; it then
    consumes ``duration`` working minutes and keeps its unit occupied across
    the break. Without it a task must fit inside one window.
    """

    id: Hashable
    capacity: int = 1
    open_intervals: tuple[tuple[int, int], ...] | None = None
    allow_split: bool = False


@dataclass(frozen=True)
class Job:
    """A work order: its tasks may not start before ``release``."""

    id: Hashable
    release: int = 0
    due: int | None = None
    weight: int = 1


@dataclass(frozen=True)
class Task:
    """One operation; tasks of a job run in ``sequence`` order.

    A task with ``frozen_start`` is already running or done: it keeps its
    start and end (``frozen_end``, or the calendar end of ``duration`` working
    minutes when not given) and occupies its resource. Routing order is not
    enforced *into* a frozen task, only from it onwards.
    """

    id: Hashable
    job_id: Hashable
    sequence: int
    resource_id: Hashable
    duration: int
    frozen_start: int | None = None
    frozen_end: int | None = None

    @property
    def is_frozen(self) -> bool:
        return self.frozen_start is not None


@dataclass(frozen=True)
class Problem:
    """A scheduling problem; ``horizon``, when given, bounds every end time."""

    resources: Sequence[Resource]
    jobs: Sequence[Job]
    tasks: Sequence[Task]
    horizon: int | None = None


@dataclass
class Schedule:
    """Start and end minute of every task."""

    starts: dict[Hashable, int] = field(default_factory=dict)
    ends: dict[Hashable, int] = field(default_factory=dict)


@dataclass
class Solution:
    """Result of :func:`orders.scheduling.solve`.

    ``objective_value`` is the primary criterion of the requested objective
    (weighted tardiness or makespan), ``None`` for the heuristic objective and
    for infeasible problems. ``lower_bound`` is the proven bound on that
    criterion when a CP-SAT stage ran.
    """

    status: Status
    starts: dict[Hashable, int]
    ends: dict[Hashable, int]
    makespan: int
    weighted_tardiness: int
    late_jobs: list[Hashable]
    lower_bound: int | None
    objective_value: int | None
    wall_seconds: float
    heuristic_makespan: int
    heuristic_weighted_tardiness: int


class ProblemError(ValueError):
    """The problem data is inconsistent (unknown ids, bad calendars, ...)."""


def validate_problem(problem: Problem) -> None:
    """Raise :class:`ProblemError` when the problem data is inconsistent."""
    resource_ids = _unique_ids("resource", [r.id for r in problem.resources])
    job_ids = _unique_ids("job", [j.id for j in problem.jobs])
    _unique_ids("task", [t.id for t in problem.tasks])
    for resource in problem.resources:
        _validate_resource(resource)
    for job in problem.jobs:
        if job.weight < 0:
            raise ProblemError(f"job {job.id!r}: negative weight")
    for task in problem.tasks:
        _validate_task(task, resource_ids, job_ids)


def _unique_ids(kind: str, ids: list[Hashable]) -> set[Hashable]:
    seen: set[Hashable] = set()
    for item in ids:
        if item in seen:
            raise ProblemError(f"duplicate {kind} id {item!r}")
        seen.add(item)
    return seen


def _validate_resource(resource: Resource) -> None:
    if resource.capacity < 1:
        raise ProblemError(f"resource {resource.id!r}: capacity must be at least 1")
    if resource.open_intervals is None:
        return
    previous_end: int | None = None
    for start, end in resource.open_intervals:
        if start >= end:
            raise ProblemError(f"resource {resource.id!r}: empty open interval ({start}, {end})")
        if previous_end is not None and start < previous_end:
            raise ProblemError(f"resource {resource.id!r}: open intervals must be sorted and disjoint")
        previous_end = end


def _validate_task(task: Task, resource_ids: set[Hashable], job_ids: set[Hashable]) -> None:
    if task.resource_id not in resource_ids:
        raise ProblemError(f"task {task.id!r}: unknown resource {task.resource_id!r}")
    if task.job_id not in job_ids:
        raise ProblemError(f"task {task.id!r}: unknown job {task.job_id!r}")
    if task.duration < 0:
        raise ProblemError(f"task {task.id!r}: negative duration")
    if task.frozen_end is not None and task.frozen_start is None:
        raise ProblemError(f"task {task.id!r}: frozen_end without frozen_start")
    if task.frozen_start is not None and task.frozen_end is not None and task.frozen_end < task.frozen_start:
        raise ProblemError(f"task {task.id!r}: frozen_end before frozen_start")
