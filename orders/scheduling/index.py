"""Derived lookup tables shared by the heuristic, the CP-SAT model and the checker."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from .calendar import Calendar
from .problem import Job, Problem, Resource, Schedule, Task


@dataclass
class ProblemIndex:
    """Routings, calendars and frozen positions of a problem."""

    problem: Problem
    resources: dict[Hashable, Resource] = field(default_factory=dict)
    jobs: dict[Hashable, Job] = field(default_factory=dict)
    calendars: dict[Hashable, Calendar] = field(default_factory=dict)
    routings: dict[Hashable, list[Task]] = field(default_factory=dict)
    frozen: dict[Hashable, tuple[int, int]] = field(default_factory=dict)
    barriers: dict[Hashable, int] = field(default_factory=dict)
    by_resource: dict[Hashable, list[Task]] = field(default_factory=dict)

    @classmethod
    def build(cls, problem: Problem) -> ProblemIndex:
        index = cls(problem)
        index.resources = {r.id: r for r in problem.resources}
        index.jobs = {j.id: j for j in problem.jobs}
        index.calendars = {r.id: Calendar(r.open_intervals) for r in problem.resources}
        index.routings = {j.id: [] for j in problem.jobs}
        index.by_resource = {r.id: [] for r in problem.resources}
        for task in problem.tasks:
            index.by_resource[task.resource_id].append(task)
        for position, task in sorted(enumerate(problem.tasks), key=lambda p: (p[1].sequence, p[0])):
            index.routings[task.job_id].append(task)
        for task in problem.tasks:
            if task.is_frozen:
                index.frozen[task.id] = (task.frozen_start or 0, index._frozen_end(task))
        for job in problem.jobs:
            index._set_barriers(job)
        return index

    def calendar_of(self, task: Task) -> Calendar:
        return self.calendars[task.resource_id]

    def is_split(self, task: Task) -> bool:
        """Whether the task is placed by working-time (interruptible) rules."""
        resource = self.resources[task.resource_id]
        return self.calendars[task.resource_id].splits(task.duration, resource.allow_split)

    def open_tasks(self, job_id: Hashable) -> list[Task]:
        """Tasks of a job still to be scheduled, in routing order."""
        return [t for t in self.routings[job_id] if not t.is_frozen]

    def total_open_work(self) -> int:
        return sum(t.duration for t in self.problem.tasks if not t.is_frozen)

    def frozen_schedule(self) -> Schedule:
        schedule = Schedule()
        for task_id, (start, end) in self.frozen.items():
            schedule.starts[task_id] = start
            schedule.ends[task_id] = end
        return schedule

    def _frozen_end(self, task: Task) -> int:
        start = task.frozen_start or 0
        if task.frozen_end is not None:
            return task.frozen_end
        end = self.calendar_of(task).finish(start, task.duration, self.is_split(task))
        return start + task.duration if end is None else end

    def _set_barriers(self, job: Job) -> None:
        """Earliest start of each open task from release and earlier frozen tasks."""
        barrier = max(job.release, 0)
        for task in self.routings[job.id]:
            if task.is_frozen:
                barrier = max(barrier, self.frozen[task.id][1])
            else:
                self.barriers[task.id] = barrier


def evaluate(index: ProblemIndex, schedule: Schedule) -> tuple[int, int, list[Hashable]]:
    """Makespan, weighted tardiness and late jobs of a complete schedule."""
    makespan = max(schedule.ends.values(), default=0)
    tardiness = 0
    late: list[Hashable] = []
    for job in index.problem.jobs:
        routing = index.routings[job.id]
        if job.due is None or not routing:
            continue
        end = max(schedule.ends[t.id] for t in routing)
        if end > job.due:
            late.append(job.id)
            tardiness += job.weight * (end - job.due)
    return makespan, tardiness, late
