"""Dispatching rule: a serial list-scheduling heuristic.

Jobs (work orders) with a due date are served earliest-due-date first, ties
broken by critical ratio (time to due over remaining work, smaller first) and
then by shortest remaining work. Jobs without a due date (or with weight 0)
come after them, most work remaining first. The next task of the chosen job is
placed at the earliest instant its resource has a free unit for the whole
task, honouring the calendar (split or not), the job release, the routing
order and the capacity already taken by frozen and earlier placed tasks; gaps
left earlier are back-filled. The result is always feasible when any
placement exists; ``None`` means some task fits nowhere in its calendar.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from dataclasses import dataclass

from .index import ProblemIndex
from .problem import Job, Problem, Schedule, Task
from .profile import LoadProfile

Priority = tuple[int, float, float, float, int]


@dataclass
class _JobCursor:
    """Progress of one job through its routing."""

    order: int
    job: Job
    tasks: list[Task]
    position: int
    ready: int
    remaining: int

    @property
    def next_task(self) -> Task:
        return self.tasks[self.position]


def dispatch(problem: Problem, index: ProblemIndex | None = None) -> Schedule | None:
    """Schedule every task by the dispatching rule; ``None`` if a task fits nowhere."""
    index = index or ProblemIndex.build(problem)
    schedule = index.frozen_schedule()
    profiles = _frozen_profiles(index)
    queue: list[tuple[Priority, int]] = []
    cursors = _cursors(index)
    for cursor in cursors:
        heapq.heappush(queue, (_priority(cursor), cursor.order))
    while queue:
        _, order = heapq.heappop(queue)
        cursor = cursors[order]
        if not _place_next(index, profiles, schedule, cursor):
            return None
        if cursor.position < len(cursor.tasks):
            heapq.heappush(queue, (_priority(cursor), cursor.order))
    return schedule


def _frozen_profiles(index: ProblemIndex) -> dict[Hashable, LoadProfile]:
    profiles = {r.id: LoadProfile(r.capacity) for r in index.problem.resources}
    for task in index.problem.tasks:
        if task.is_frozen:
            start, end = index.frozen[task.id]
            profiles[task.resource_id].add(start, end)
    return profiles


def _cursors(index: ProblemIndex) -> list[_JobCursor]:
    cursors: list[_JobCursor] = []
    for job in index.problem.jobs:
        tasks = index.open_tasks(job.id)
        if tasks:
            work = sum(t.duration for t in tasks)
            cursors.append(_JobCursor(len(cursors), job, tasks, 0, max(job.release, 0), work))
    return cursors


def _priority(cursor: _JobCursor) -> Priority:
    job = cursor.job
    if job.due is None or job.weight <= 0:
        return (1, 0.0, 0.0, -float(cursor.remaining), cursor.order)
    ratio = (job.due - cursor.ready) / max(cursor.remaining, 1)
    return (0, float(job.due), ratio, float(cursor.remaining), cursor.order)


def _place_next(
    index: ProblemIndex,
    profiles: dict[Hashable, LoadProfile],
    schedule: Schedule,
    cursor: _JobCursor,
) -> bool:
    task = cursor.next_task
    ready = max(cursor.ready, index.barriers[task.id])
    placement = profiles[task.resource_id].earliest_fit(
        ready, task.duration, index.calendar_of(task), index.is_split(task)
    )
    if placement is None:
        return False
    start, end = placement
    profiles[task.resource_id].add(start, end)
    schedule.starts[task.id] = start
    schedule.ends[task.id] = end
    cursor.ready = end
    cursor.remaining -= task.duration
    cursor.position += 1
    return True
