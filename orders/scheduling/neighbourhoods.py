"""Choice of the tasks a neighbourhood step re-optimises.

*Related jobs*: a job that hurts the objective (a late job, drawn with
probability proportional to its weighted tardiness, or one ending at the
makespan) plus the jobs that meet it on its work centers, nearest in time
first, whole routings freed. A job whose neighbourhood brought no gain is
drawn less often (its weight decays by ``FAILURE_DECAY`` per failure) until
a step improves it. Some seeds are drawn uniformly to diversify.

*Time slice*: consecutive tasks in start order across all work centers.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass

from .index import ProblemIndex
from .problem import Schedule

RELATED_SHARE = 0.8
UNIFORM_SEED_SHARE = 0.3
FAILURE_DECAY = 0.5


@dataclass
class Neighbourhood:
    """Open tasks to free, and the job the choice was built around (if any)."""

    free: set[Hashable]
    seed_job: Hashable | None = None


class Chooser:
    """Draws neighbourhoods and remembers which seed jobs led nowhere."""

    def __init__(self, index: ProblemIndex, objective: str, rng: random.Random) -> None:
        self.index = index
        self.objective = objective
        self.rng = rng
        self.failures: Counter[Hashable] = Counter()

    def choose(self, schedule: Schedule, size: int) -> Neighbourhood:
        """About ``size`` open tasks to free."""
        if self.rng.random() < RELATED_SHARE:
            seed_job = self.costly_job(schedule)
            return Neighbourhood(related_jobs(self.index, schedule, seed_job, self.rng, size), seed_job)
        return Neighbourhood(time_slice(self.index, schedule, self.rng, size))

    def feedback(self, neighbourhood: Neighbourhood, improved: bool) -> None:
        if neighbourhood.seed_job is None:
            return
        if improved:
            self.failures.pop(neighbourhood.seed_job, None)
        else:
            self.failures[neighbourhood.seed_job] += 1

    def costly_job(self, schedule: Schedule) -> Hashable:
        """A job with open tasks, drawn by its share of the objective."""
        ends = job_ends(self.index, schedule)
        movable = [j for j in ends if any(not t.is_frozen for t in self.index.routings[j])]
        if self.objective == "makespan":
            latest = max(ends[j] for j in movable)
            costs = [float(ends[j] >= latest) for j in movable]
        else:
            costs = [_lateness_cost(self.index, j, ends[j]) for j in movable]
        costs = [cost * FAILURE_DECAY ** self.failures[j] for cost, j in zip(costs, movable, strict=True)]
        if self.rng.random() < UNIFORM_SEED_SHARE or not any(costs):
            return self.rng.choice(movable)
        return self.rng.choices(movable, weights=costs)[0]


def related_jobs(
    index: ProblemIndex, schedule: Schedule, seed_job: Hashable, rng: random.Random, size: int
) -> set[Hashable]:
    """``seed_job`` and the jobs that meet it on its work centers, nearest in time first."""
    routing = [t for t in index.routings[seed_job] if not t.is_frozen]
    distance: dict[Hashable, float] = {}
    for task in routing:
        low, high = schedule.starts[task.id], schedule.ends[task.id]
        for other in index.by_resource[task.resource_id]:
            if other.job_id == seed_job or other.is_frozen:
                continue
            gap = max(schedule.starts[other.id] - high, low - schedule.ends[other.id], 0) * rng.uniform(0.5, 1.5)
            distance[other.job_id] = min(gap, distance.get(other.job_id, gap))
    free = {t.id for t in routing}
    for job_id in sorted(distance, key=distance.__getitem__):
        if len(free) >= size:
            break
        free.update(t.id for t in index.routings[job_id] if not t.is_frozen)
    return free


def time_slice(index: ProblemIndex, schedule: Schedule, rng: random.Random, size: int) -> set[Hashable]:
    """``size`` consecutive open tasks in start order."""
    ordered = sorted((t for t in index.problem.tasks if not t.is_frozen), key=lambda t: schedule.starts[t.id])
    first = rng.randrange(max(len(ordered) - size, 0) + 1)
    return {t.id for t in ordered[first : first + size]}


def job_ends(index: ProblemIndex, schedule: Schedule) -> dict[Hashable, int]:
    """End of every job that has tasks."""
    return {
        job_id: max(schedule.ends[t.id] for t in routing) for job_id, routing in index.routings.items() if routing
    }


def _lateness_cost(index: ProblemIndex, job_id: Hashable, end: int) -> float:
    job = index.jobs[job_id]
    if job.due is None or end <= job.due:
        return 0.0
    return float(job.weight * (end - job.due))
