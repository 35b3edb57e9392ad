"""CP-SAT model of the scheduling problem.

Each free task is an interval variable ``[start, end)``. Calendars are
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
needs no blocking intervals since no free task can start or run in it
otherwise. Pinned tasks (frozen ones, and in a neighbourhood sub-model the
tasks outside it) enter the resource constraints as fixed load, clamped to
the capacity so inconsistent frozen data cannot make the model infeasible.
Capacity 1 uses ``NoOverlap``, larger capacities ``Cumulative``; zero-length
tasks (milestones) take no capacity.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from .calendar import Calendar
from .index import ProblemIndex
from .problem import Schedule, Task
from .windows import Pinned, TimeWindows


@dataclass
class TaskVars:
    """Variables of one free task."""

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
    pinned: Pinned
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
    seconds: float = 0.0


def build_model(index: ProblemIndex, horizon: int, windows: TimeWindows, pinned: Pinned) -> SchedulingModel | None:
    """Model the free tasks; ``None`` if one has no valid start in its window."""
    model = cp_model.CpModel()
    variables: list[cp_model.IntVar] = []
    tasks: dict[Hashable, TaskVars] = {}
    for task in index.problem.tasks:
        if task.id not in pinned:
            task_vars = _task_vars(model, index, task, windows[task.id], variables)
            if task_vars is None:
                return None
            tasks[task.id] = task_vars
    last_ends: dict[Hashable, cp_model.LinearExprT] = {}
    for job in index.problem.jobs:
        free = [t for t in index.routings[job.id] if t.id in tasks]
        for previous, task in zip(free, free[1:]):
            model.add(tasks[task.id].start >= tasks[previous.id].end)
        if free:
            last_ends[job.id] = tasks[free[-1].id].end
    for resource in index.problem.resources:
        _add_capacity(model, index, resource.id, tasks, pinned, windows)
    floors: dict[str, int] = {}
    makespan = _add_makespan(model, pinned, horizon, last_ends, floors)
    tardiness, tardiness_vars = _add_tardiness(model, index, pinned, horizon, last_ends, floors)
    variables.append(makespan)
    variables.extend(tardiness_vars.values())
    return SchedulingModel(model, index, pinned, tasks, makespan, tardiness, tardiness_vars, variables, floors)


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


def _add_capacity(
    model: cp_model.CpModel,
    index: ProblemIndex,
    resource_id: Hashable,
    tasks: dict[Hashable, TaskVars],
    pinned: Pinned,
    windows: TimeWindows,
) -> None:
    capacity = index.resources[resource_id].capacity
    free = [t for t in index.by_resource[resource_id] if t.id in tasks and t.duration > 0]
    if not free:
        return
    reach = (min(windows[t.id][0] for t in free), max(windows[t.id][1] + _longest(tasks[t.id]) for t in free))
    load = [p for p in pinned_load(index, resource_id, pinned) if p[1] > reach[0] and p[0] < reach[1]]
    shortest = min(t.duration for t in free)
    load = _close_unusable_gaps(load, capacity, index.calendars[resource_id], shortest)
    if len(free) <= capacity and not load:
        return
    intervals = [tasks[t.id].interval for t in free]
    fixed = [model.new_fixed_size_interval_var(start, end - start, "") for start, end, _ in load]
    if capacity == 1:
        model.add_no_overlap(intervals + fixed)
    else:
        demands = [1] * len(intervals) + [units for _, _, units in load]
        model.add_cumulative(intervals + fixed, demands, capacity)


def _close_unusable_gaps(
    load: list[tuple[int, int, int]], capacity: int, calendar: Calendar, shortest: int
) -> list[tuple[int, int, int]]:
    """Merge full pieces whose gap has fewer working minutes than the shortest free task.

    No free task fits in such a gap, so blocking it loses nothing and leaves
    the propagators fewer fixed intervals.
    """
    merged: list[tuple[int, int, int]] = []
    for piece in load:
        if merged and merged[-1][2] == capacity and piece[2] == capacity:
            gap_start, gap_end = merged[-1][1], piece[0]
            if calendar.always_open:
                working = gap_end - gap_start
            else:
                working = calendar.working_before(gap_end) - calendar.working_before(gap_start)
            if working < shortest:
                merged[-1] = (merged[-1][0], piece[1], capacity)
                continue
        merged.append(piece)
    return merged


def _longest(task_vars: TaskVars) -> int:
    if task_vars.choices:
        return max(length for _, length in task_vars.choices)
    return int(task_vars.size)


def pinned_load(index: ProblemIndex, resource_id: Hashable, pinned: Pinned) -> list[tuple[int, int, int]]:
    """Pinned usage of a resource as ``(start, end, units)`` pieces, units at most the capacity."""
    capacity = index.resources[resource_id].capacity
    events: dict[int, int] = {}
    for task in index.by_resource[resource_id]:
        if task.id in pinned:
            start, end = pinned[task.id]
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


def _add_makespan(
    model: cp_model.CpModel,
    pinned: Pinned,
    horizon: int,
    last_ends: dict[Hashable, cp_model.LinearExprT],
    floors: dict[str, int],
) -> cp_model.IntVar:
    floor = max((end for _, end in pinned.values()), default=0)
    makespan = model.new_int_var(floor, max(floor, horizon), "makespan")
    floors[makespan.name] = floor
    for end in last_ends.values():
        model.add(makespan >= end)
    return makespan


def _add_tardiness(
    model: cp_model.CpModel,
    index: ProblemIndex,
    pinned: Pinned,
    horizon: int,
    last_ends: dict[Hashable, cp_model.LinearExprT],
    floors: dict[str, int],
) -> tuple[cp_model.LinearExprT, dict[Hashable, cp_model.IntVar]]:
    constant = 0
    tardiness_vars: dict[Hashable, cp_model.IntVar] = {}
    weights: list[int] = []
    for job in index.problem.jobs:
        if job.due is None or job.weight <= 0:
            continue
        pinned_end = max((pinned[t.id][1] for t in index.routings[job.id] if t.id in pinned), default=None)
        floor = max(0, pinned_end - job.due) if pinned_end is not None else 0
        if job.id not in last_ends:
            constant += job.weight * floor
            continue
        late = model.new_int_var(floor, max(floor, horizon - job.due), f"late{len(weights)}")
        floors[late.name] = floor
        model.add(late >= last_ends[job.id] - job.due)
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
    makespan = max(schedule.ends.values(), default=0)
    sm.model.add_hint(sm.makespan, max(sm.floors[sm.makespan.name], makespan))
    for job_id, late in sm.tardiness_vars.items():
        job_end = max(schedule.ends[t.id] for t in sm.index.routings[job_id])
        due = sm.index.jobs[job_id].due or 0
        sm.model.add_hint(late, max(sm.floors[late.name], job_end - due))


def hint_values(sm: SchedulingModel, values: list[int]) -> None:
    """Replace the hint by the values of a previous solve of this model."""
    sm.model.clear_hints()
    for variable, value in zip(sm.variables, values, strict=True):
        sm.model.add_hint(variable, value)


def run_stage(
    sm: SchedulingModel,
    objective: cp_model.LinearExprT,
    seconds: float,
    workers: int,
    seed: int,
    *,
    light: bool = False,
) -> StageResult:
    """Minimise ``objective`` and read back the best schedule found.

    ``light`` skips presolve probing, which on models with thousands of
    intervals or many pinned pieces costs more than it returns.
    """
    sm.model.minimize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.01)
    solver.parameters.num_workers = workers if workers > 0 else os.cpu_count() or 1
    solver.parameters.random_seed = seed
    if light:
        solver.parameters.cp_model_probing_level = 0
    code = solver.solve(sm.model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status = "infeasible" if code == cp_model.INFEASIBLE else "unknown"
        return StageResult(status, None, None, None, None, solver.wall_time)
    schedule = Schedule({k: s for k, (s, _) in sm.pinned.items()}, {k: e for k, (_, e) in sm.pinned.items()})
    for task_id, task_vars in sm.tasks.items():
        schedule.starts[task_id] = solver.value(task_vars.start)
        schedule.ends[task_id] = solver.value(task_vars.end)
    return StageResult(
        "optimal" if code == cp_model.OPTIMAL else "feasible",
        schedule,
        round(solver.objective_value),
        math.ceil(solver.best_objective_bound - 1e-6),
        [solver.value(v) for v in sm.variables],
        solver.wall_time,
    )
