"""Large-neighbourhood search with small CP-SAT sub-models.

On a large problem CP-SAT's own neighbourhood search copies and presolves
the whole model for every neighbourhood, which leaves few neighbourhoods per
second. Here each step frees a small set of tasks (see
:mod:`.neighbourhoods`), pins every other task at its current times (as
fixed load on the resources and as bounds on the free tasks of the same
jobs), lets each free task move at most ``horizon / RADIUS_DIVISOR`` from
where it is, and solves that sub-model with CP-SAT hinted with the current
schedule. The sub-model objective is the run's objective made lexicographic
in one expression: ``weighted tardiness * (horizon + 1) + makespan``, or
``makespan * K + sum of job ends`` (the sum only breaks ties, compacting the
schedule).

Several neighbourhoods are solved at once, one CP-SAT worker each, from the
same incumbent. The best result is kept; the others are applied on top of it
when the combination still respects capacity and routing order. The
neighbourhood size adapts: it grows while sub-models are solved to
optimality within the time slice and shrinks when they are not.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ortools.sat.python import cp_model

from . import cpsat, neighbourhoods
from .checking import capacity_violations, routing_violations
from .index import ProblemIndex, evaluate
from .problem import Schedule, Task
from .windows import Pinned, time_windows

SLICE_SECONDS = 1.0
MIN_SECONDS = 0.05
INITIAL_SIZE = 25
MIN_SIZE = 12
MAX_SIZE = 400
RADIUS_DIVISOR = 8
MAX_LANES = 4
GROW_BELOW = 0.4
WORKERS_PER_LANE = 2

Score = tuple[int, int]


@dataclass
class SearchSpace:
    """Everything a neighbourhood step needs besides the incumbent."""

    index: ProblemIndex
    objective: str
    horizon: int
    deadlines: dict[Hashable, int]
    workers: int
    seed: int


@dataclass
class _Step:
    free: set[Hashable]
    result: cpsat.StageResult | None

    @property
    def schedule(self) -> Schedule | None:
        return None if self.result is None else self.result.schedule


def improve(space: SearchSpace, schedule: Schedule, until: float) -> Schedule:
    """Improve ``schedule`` until the ``time.perf_counter()`` deadline ``until``."""
    open_count = sum(not t.is_frozen for t in space.index.problem.tasks)
    if not open_count:
        return schedule
    chooser = neighbourhoods.Chooser(space.index, space.objective, random.Random(space.seed))
    cores = space.workers if space.workers > 0 else os.cpu_count() or 1
    lanes = max(1, min(cores // WORKERS_PER_LANE, MAX_LANES))
    best, best_score = schedule, score(space, schedule)
    size = float(min(INITIAL_SIZE, open_count))
    step = 0
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        while (remaining := until - time.perf_counter()) > MIN_SECONDS:
            chosen = [chooser.choose(best, int(size)) for _ in range(lanes)]
            seconds = min(SLICE_SECONDS, remaining)
            futures = [
                pool.submit(_solve_neighbourhood, space, best, n.free, seconds, max(cores // lanes, 1), step + k)
                for k, n in enumerate(chosen)
            ]
            steps = [_Step(n.free, future.result()) for n, future in zip(chosen, futures, strict=True)]
            step += lanes
            previous = best_score
            best, best_score = _advance(space, best, best_score, steps)
            for neighbourhood, done in zip(chosen, steps, strict=True):
                improved = done.schedule is not None and score(space, done.schedule) < previous
                chooser.feedback(neighbourhood, improved)
                size *= _size_factor(done.result, seconds)
            size = min(max(size, MIN_SIZE), MAX_SIZE, open_count)
    return best


def _size_factor(result: cpsat.StageResult | None, seconds: float) -> float:
    """Grow after quick proofs, shrink after time-outs."""
    if result is None:
        return 1.0
    if result.status != "optimal":
        return 0.85
    return 1.15 if result.seconds < GROW_BELOW * seconds else 1.0


def score(space: SearchSpace, schedule: Schedule) -> Score:
    """Lexicographic objective of a complete schedule."""
    makespan, tardiness, _ = evaluate(space.index, schedule)
    if space.objective == "makespan":
        return makespan, sum(neighbourhoods.job_ends(space.index, schedule).values())
    return tardiness, makespan


def _advance(space: SearchSpace, best: Schedule, best_score: Score, steps: list[_Step]) -> tuple[Schedule, Score]:
    improving: list[tuple[Score, Schedule, _Step]] = []
    for done in steps:
        if done.schedule is not None and (found := score(space, done.schedule)) <= best_score:
            improving.append((found, done.schedule, done))
    if not improving:
        return best, best_score
    improving.sort(key=lambda item: item[0])
    best_score, best, first = improving[0]
    if len(improving) > 1:
        merged = _combine(space.index, best, [(done.free, found) for _, found, done in improving[1:]], first.free)
        if merged is not None and (merged_score := score(space, merged)) <= best_score:
            return merged, merged_score
    return best, best_score


def _combine(
    index: ProblemIndex, base: Schedule, others: list[tuple[set[Hashable], Schedule]], taken: set[Hashable]
) -> Schedule | None:
    """``base`` with the free tasks of ``others`` moved too; ``None`` if they clash."""
    merged = Schedule(dict(base.starts), dict(base.ends))
    touched = set(taken)
    for free, schedule in others:
        for task_id in free:
            merged.starts[task_id] = schedule.starts[task_id]
            merged.ends[task_id] = schedule.ends[task_id]
        touched |= free
    tasks = [t for t in index.problem.tasks if t.id in touched]
    for resource_id in {t.resource_id for t in tasks}:
        if capacity_violations(index, merged, resource_id):
            return None
    for job_id in {t.job_id for t in tasks}:
        if routing_violations(index, merged, job_id):
            return None
    return merged


def _solve_neighbourhood(
    space: SearchSpace, schedule: Schedule, free: set[Hashable], seconds: float, workers: int, step: int
) -> cpsat.StageResult | None:
    index = space.index
    pinned: Pinned = dict(index.frozen)
    for task in index.problem.tasks:
        if not task.is_frozen and task.id not in free:
            pinned[task.id] = (schedule.starts[task.id], schedule.ends[task.id])
    windows = time_windows(index, space.horizon, space.deadlines, pinned)
    if windows is None:
        return None
    radius = max(space.horizon // RADIUS_DIVISOR, 1)
    for task_id, (lo, hi) in windows.items():
        start = schedule.starts[task_id]
        windows[task_id] = (max(lo, start - radius), min(hi, start + radius))
    sm = cpsat.build_model(index, space.horizon, windows, pinned)
    if sm is None:
        return None
    cpsat.add_hint(sm, schedule)
    return cpsat.run_stage(sm, _objective(space, sm), seconds, workers, space.seed + step, light=True)


def _objective(space: SearchSpace, sm: cpsat.SchedulingModel) -> cp_model.LinearExprT:
    scale = max(space.horizon, sm.floors[sm.makespan.name]) + 1
    if space.objective != "makespan":
        return sm.tardiness * scale + sm.makespan
    ends = [sm.tasks[t.id].end for t in _last_free_tasks(sm)]
    return sm.makespan * (scale * max(len(ends), 1)) + sum(ends)


def _last_free_tasks(sm: cpsat.SchedulingModel) -> list[Task]:
    last: list[Task] = []
    for routing in sm.index.routings.values():
        free = [t for t in routing if t.id in sm.tasks]
        if free:
            last.append(free[-1])
    return last
