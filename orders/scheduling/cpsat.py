"""CP-SAT model of the scheduling problem.

Each open task is an interval variable ``[start, end)``. Calendars are
handled through start domains rather than blocking intervals:

* an unsplit task may only start at ``s`` with ``s + duration`` inside the
  same open window, so its start domain is a union of ranges and its size is
  the constant ``duration``;
* a split task starts on a working minute and its elapsed length is a step
  function of its start (``duration`` plus the closed time it spans). The
  calendar cuts the start domain into ranges of equal elapsed length; one
  Boolean per distinct length (usually two or three: none, a night, a
  weekend) selects the range and fixes the size.

A split task keeps its unit across the break. Tasks being contiguous in
working time, this is exact: two tasks never share a working minute iff their
elapsed intervals are disjoint, and likewise for cumulative load. Closed time
needs no blocking intervals since no open task can start or run in it
otherwise. Frozen tasks enter the resource constraints as fixed load (clamped
to the capacity, so inconsistent frozen data does not make the model
infeasible). Capacity 1 uses ``NoOverlap``, larger capacities ``Cumulative``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from .index import ProblemIndex
from .problem import Schedule, Task

TimeWindows = dict[Hashable, tuple[int, int]]


@dataclass
class TaskVars:
    """Variables of one open task."""

    start: cp_model.IntVar
    end: cp_model.LinearExprT
    interval: cp_model.IntervalVar
    size: cp_model.IntVar | int
    choices: list[tuple[cp_model.IntVar, int]] = field(default_factory=list)


@dataclass
class SchedulingModel:
    """The CP-SAT model and handles on its decision and objective variables."""

    model: cp_model.CpModel
    index: ProblemIndex
    tasks: dict[Hashable, TaskVars]
    makespan: cp_model.IntVar
    tardiness: cp_model.LinearExprT
    tardiness_vars: dict[Hashable, cp_model.IntVar]
    variables: list[cp_model.IntVar]
    floors: dict[str, int]


@dataclass
class StageResult:
    """Outcome of one CP-SAT solve."""

    status: str
    schedule: Schedule | None
    objective: int | None
    bound: int | None
    values: list[int] | None


def time_windows(index: ProblemIndex, horizon: int, deadlines: dict[Hashable, int]) -> TimeWindows | None:
    """Earliest and latest start of every open task; ``None`` if some window is empty."""
    windows: TimeWindows = {}
    for job in index.problem.jobs:
        tasks = index.open_tasks(job.id)
        earliest = _forward_pass(index, tasks)
        latest = _backward_pass(index, tasks, min(horizon, deadlines.get(job.id, horizon)))
        if earliest is None or latest is None:
            return None
        for task, lo, hi in zip(tasks, earliest, latest, strict=True):
            if lo > hi:
                return None
            windows[task.id] = (lo, hi)
    return windows


def _forward_pass(index: ProblemIndex, tasks: list[Task]) -> list[int] | None:
    starts: list[int] = []
    ready = 0
    for task in tasks:
        split = index.is_split(task)
        calendar = index.calendar_of(task)
        start = calendar.next_start(max(ready, index.barriers[task.id]), task.duration, split)
        end = None if start is None else calendar.finish(start, task.duration, split)
        if start is None or end is None:
            return None
        starts.append(start)
        ready = end
    return starts


def _backward_pass(index: ProblemIndex, tasks: list[Task], latest_end: int) -> list[int] | None:
    starts: list[int] = []
    for task in reversed(tasks):
        start = index.calendar_of(task).latest_start(latest_end, task.duration, index.is_split(task))
        if start is None:
            return None
        starts.append(start)
        latest_end = start
    return starts[::-1]


def build_model(index: ProblemIndex, horizon: int, windows: TimeWindows) -> SchedulingModel | None:
    """Model the problem; ``None`` if a task has no valid start in its window."""
    model = cp_model.CpModel()
    variables: list[cp_model.IntVar] = []
    tasks: dict[Hashable, TaskVars] = {}
    for task in index.problem.tasks:
        if not task.is_frozen:
            task_vars = _task_vars(model, index, task, windows[task.id], variables)
            if task_vars is None:
                return None
            tasks[task.id] = task_vars
    for job in index.problem.jobs:
        _add_routing(model, index.open_tasks(job.id), tasks)
    for resource in index.problem.resources:
        _add_capacity(model, index, resource.id, tasks)
    floors: dict[str, int] = {}
    makespan = _add_makespan(model, index, horizon, tasks, floors)
    variables.append(makespan)
    tardiness, tardiness_vars = _add_tardiness(model, index, horizon, tasks, floors)
    variables.extend(tardiness_vars.values())
    return SchedulingModel(model, index, tasks, makespan, tardiness, tardiness_vars, variables, floors)


def _task_vars(
    model: cp_model.CpModel,
    index: ProblemIndex,
    task: Task,
    window: tuple[int, int],
    variables: list[cp_model.IntVar],
) -> TaskVars | None:
    segments = index.calendar_of(task).start_segments(window[0], window[1], task.duration, index.is_split(task))
    if not segments:
        return None
    name = f"t{len(variables)}"
    start = model.new_int_var_from_domain(_domain(segments), f"{name}s")
    variables.append(start)
    lengths = sorted({length for _, _, length in segments})
    if len(lengths) == 1:
        interval = model.new_fixed_size_interval_var(start, lengths[0], f"{name}i")
        return TaskVars(start, start + lengths[0], interval, lengths[0])
    size = model.new_int_var_from_domain(cp_model.Domain.from_values(lengths), f"{name}d")
    end = model.new_int_var(segments[0][0] + lengths[0], segments[-1][1] + lengths[-1], f"{name}e")
    interval = model.new_interval_var(start, size, end, f"{name}i")
    choices: list[tuple[cp_model.IntVar, int]] = []
    for length in lengths:
        chosen = model.new_bool_var(f"{name}c{length}")
        part = _domain([segment for segment in segments if segment[2] == length])
        model.add_linear_expression_in_domain(start, part).only_enforce_if(chosen)
        model.add(size == length).only_enforce_if(chosen)
        choices.append((chosen, length))
    model.add_exactly_one(chosen for chosen, _ in choices)
    variables.extend([size, end, *(chosen for chosen, _ in choices)])
    return TaskVars(start, end, interval, size, choices)


def _domain(segments: list[tuple[int, int, int]]) -> cp_model.Domain:
    return cp_model.Domain.from_intervals([[first, last] for first, last, _ in segments])


def _add_routing(model: cp_model.CpModel, routing: list[Task], tasks: dict[Hashable, TaskVars]) -> None:
    for previous, task in zip(routing, routing[1:]):
        model.add(tasks[task.id].start >= tasks[previous.id].end)


def _add_capacity(
    model: cp_model.CpModel, index: ProblemIndex, resource_id: Hashable, tasks: dict[Hashable, TaskVars]
) -> None:
    capacity = index.resources[resource_id].capacity
    intervals = [tasks[t.id].interval for t in index.problem.tasks if t.resource_id == resource_id and t.id in tasks]
    load = [(s, e, d) for s, e, d in _frozen_load(index, resource_id) if e > 0]
    if not intervals or (len(intervals) <= capacity and not load):
        return
    fixed = [model.new_fixed_size_interval_var(s, e - s, "") for s, e, _ in load]
    if capacity == 1:
        model.add_no_overlap(intervals + fixed)
    else:
        demands = [1] * len(intervals) + [d for _, _, d in load]
        model.add_cumulative(intervals + fixed, demands, capacity)


def _frozen_load(index: ProblemIndex, resource_id: Hashable) -> list[tuple[int, int, int]]:
    """Frozen usage of a resource as ``(start, end, units)`` pieces, units at most the capacity."""
    capacity = index.resources[resource_id].capacity
    events: dict[int, int] = {}
    for task in index.problem.tasks:
        if task.is_frozen and task.resource_id == resource_id:
            start, end = index.frozen[task.id]
            if end > start:
                events[start] = events.get(start, 0) + 1
                events[end] = events.get(end, 0) - 1
    pieces: list[tuple[int, int, int]] = []
    level = 0
    times = sorted(events)
    for time, following in zip(times, times[1:]):
        level += events[time]
        units = min(level, capacity)
        if units and pieces and pieces[-1][1] == time and pieces[-1][2] == units:
            pieces[-1] = (pieces[-1][0], following, units)
        elif units:
            pieces.append((time, following, units))
    return pieces


def _last_ends(index: ProblemIndex, tasks: dict[Hashable, TaskVars]) -> dict[Hashable, cp_model.LinearExprT]:
    last: dict[Hashable, cp_model.LinearExprT] = {}
    for job in index.problem.jobs:
        routing = index.open_tasks(job.id)
        if routing:
            last[job.id] = tasks[routing[-1].id].end
    return last


def _frozen_job_end(index: ProblemIndex, job_id: Hashable) -> int | None:
    ends = [index.frozen[t.id][1] for t in index.routings[job_id] if t.is_frozen]
    return max(ends, default=None)


def _add_makespan(
    model: cp_model.CpModel,
    index: ProblemIndex,
    horizon: int,
    tasks: dict[Hashable, TaskVars],
    floors: dict[str, int],
) -> cp_model.IntVar:
    floor = max((end for _, end in index.frozen.values()), default=0)
    makespan = model.new_int_var(floor, max(floor, horizon), "makespan")
    floors[makespan.name] = floor
    for end in _last_ends(index, tasks).values():
        model.add(makespan >= end)
    return makespan


def _add_tardiness(
    model: cp_model.CpModel,
    index: ProblemIndex,
    horizon: int,
    tasks: dict[Hashable, TaskVars],
    floors: dict[str, int],
) -> tuple[cp_model.LinearExprT, dict[Hashable, cp_model.IntVar]]:
    last = _last_ends(index, tasks)
    constant = 0
    tardiness_vars: dict[Hashable, cp_model.IntVar] = {}
    weights: list[int] = []
    for job in index.problem.jobs:
        if job.due is None or job.weight <= 0:
            continue
        frozen_end = _frozen_job_end(index, job.id)
        floor = max(0, frozen_end - job.due) if frozen_end is not None else 0
        if job.id not in last:
            constant += job.weight * floor
            continue
        late = model.new_int_var(floor, max(floor, horizon - job.due), f"late{len(weights)}")
        floors[late.name] = floor
        model.add(late >= last[job.id] - job.due)
        tardiness_vars[job.id] = late
        weights.append(job.weight)
    expression = cp_model.LinearExpr.weighted_sum(list(tardiness_vars.values()), weights) + constant
    return expression, tardiness_vars


def add_hint(sm: SchedulingModel, schedule: Schedule) -> None:
    """Hint every variable with the values of a complete feasible schedule."""
    for task_id, task_vars in sm.tasks.items():
        start, end = schedule.starts[task_id], schedule.ends[task_id]
        sm.model.add_hint(task_vars.start, start)
        if task_vars.choices:
            sm.model.add_hint(task_vars.size, end - start)
            sm.model.add_hint(task_vars.end, end)
            for chosen, length in task_vars.choices:
                sm.model.add_hint(chosen, int(length == end - start))
    job_ends = _job_ends(sm.index, schedule)
    makespan = max(schedule.ends.values(), default=0)
    sm.model.add_hint(sm.makespan, max(sm.floors[sm.makespan.name], makespan))
    for job_id, late in sm.tardiness_vars.items():
        due = sm.index.jobs[job_id].due or 0
        sm.model.add_hint(late, max(sm.floors[late.name], job_ends[job_id] - due))


def hint_values(sm: SchedulingModel, values: list[int]) -> None:
    """Replace the hint by the values of a previous solve of this model."""
    sm.model.clear_hints()
    for variable, value in zip(sm.variables, values, strict=True):
        sm.model.add_hint(variable, value)


def _job_ends(index: ProblemIndex, schedule: Schedule) -> dict[Hashable, int]:
    return {
        job.id: max((schedule.ends[t.id] for t in index.routings[job.id]), default=0) for job in index.problem.jobs
    }


def run_stage(
    sm: SchedulingModel, objective: cp_model.LinearExprT, seconds: float, workers: int, seed: int
) -> StageResult:
    """Minimise ``objective`` and read back the best schedule found."""
    sm.model.minimize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.01)
    solver.parameters.num_workers = workers if workers > 0 else os.cpu_count() or 1
    solver.parameters.random_seed = seed
    code = solver.solve(sm.model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status = "infeasible" if code == cp_model.INFEASIBLE else "unknown"
        return StageResult(status, None, None, None, None)
    schedule = sm.index.frozen_schedule()
    for task_id, task_vars in sm.tasks.items():
        schedule.starts[task_id] = solver.value(task_vars.start)
        schedule.ends[task_id] = solver.value(task_vars.end)
    return StageResult(
        "optimal" if code == cp_model.OPTIMAL else "feasible",
        schedule,
        round(solver.objective_value),
        _ceil(solver.best_objective_bound),
        [solver.value(v) for v in sm.variables],
    )


def _ceil(value: float) -> int:
    return math.ceil(value - 1e-6)
