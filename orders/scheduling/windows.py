"""Earliest and latest starts of the tasks left to decide.

*Pinned* tasks keep given times: frozen tasks always, and in a neighbourhood
sub-model every open task outside the neighbourhood. A free task starts after
every earlier pinned task of its job and, when a later open task is pinned,
ends before that task starts (routing order is not enforced into frozen
tasks). The passes relax capacity but respect calendars, so an empty window
proves infeasibility.
"""

from __future__ import annotations

from collections.abc import Hashable

from .index import ProblemIndex
from .problem import Job

Pinned = dict[Hashable, tuple[int, int]]
TimeWindows = dict[Hashable, tuple[int, int]]


def time_windows(
    index: ProblemIndex, horizon: int, deadlines: dict[Hashable, int], pinned: Pinned
) -> TimeWindows | None:
    """``(earliest, latest)`` start of every free task; ``None`` if one is empty."""
    windows: TimeWindows = {}
    for job in index.problem.jobs:
        earliest = _forward_pass(index, job, pinned)
        latest = _backward_pass(index, job, pinned, min(horizon, deadlines.get(job.id, horizon)))
        if earliest is None or latest is None:
            return None
        for task_id, lo in earliest.items():
            hi = latest[task_id]
            if lo > hi:
                return None
            windows[task_id] = (lo, hi)
    return windows


def _forward_pass(index: ProblemIndex, job: Job, pinned: Pinned) -> dict[Hashable, int] | None:
    starts: dict[Hashable, int] = {}
    ready = max(job.release, 0)
    for task in index.routings[job.id]:
        if task.id in pinned:
            ready = max(ready, pinned[task.id][1])
            continue
        split = index.is_split(task)
        calendar = index.calendar_of(task)
        start = calendar.next_start(ready, task.duration, split)
        end = None if start is None else calendar.finish(start, task.duration, split)
        if start is None or end is None:
            return None
        starts[task.id] = start
        ready = end
    return starts


def _backward_pass(index: ProblemIndex, job: Job, pinned: Pinned, latest_end: int) -> dict[Hashable, int] | None:
    starts: dict[Hashable, int] = {}
    for task in reversed(index.routings[job.id]):
        if task.id in pinned:
            if not task.is_frozen:
                latest_end = min(latest_end, pinned[task.id][0])
            continue
        start = index.calendar_of(task).latest_start(latest_end, task.duration, index.is_split(task))
        if start is None:
            return None
        starts[task.id] = start
        latest_end = start
    return starts
