"""Entry point: dispatching rule, then CP-SAT seeded with it.

``weighted_tardiness`` is solved lexicographically in two CP-SAT stages on
the same model: first the weighted tardiness is minimised (with up to three
quarters of the time limit), then it is capped at the value found and the
makespan is minimised, hinted with the first stage's schedule. ``makespan``
is one stage. Every stage is hinted with a complete feasible schedule, so a
schedule is returned even when the time limit is hit.

Variable domains are bounded by a horizon that cannot cut off an optimal
schedule: the heuristic makespan for the makespan objective; for weighted
tardiness the later of the heuristic makespan and the calendars' ends plus
the open work on always-open resources (past an idle instant after that,
all work can be shifted left). Jobs with a due date also end by
``due + heuristic_tardiness // weight``. ``Problem.horizon``, when given,
replaces the derived bound.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass

from . import cpsat, lns
from .dispatching import dispatch
from .index import ProblemIndex, evaluate
from .problem import OBJECTIVES, Problem, Schedule, Solution, Status, validate_problem
from .windows import TimeWindows, time_windows

TARDINESS_SHARE = 0.75
BOUND_SHARE = 0.1
LARGE_PROBLEM_TASKS = 600


@dataclass
class _Settings:
    deadline: float
    workers: int
    seed: int

    def remaining(self) -> float:
        return max(self.deadline - time.perf_counter(), 0.0)


@dataclass
class _Outcome:
    status: Status
    schedule: Schedule | None
    lower_bound: int | None = None


def solve(
    problem: Problem,
    *,
    objective: str = "weighted_tardiness",
    time_limit_seconds: float = 60.0,
    workers: int = 0,
    seed: int = 0,
) -> Solution:
    """Schedule ``problem``; ``workers=0`` uses every core."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, not {objective!r}")
    began = time.perf_counter()
    validate_problem(problem)
    index = ProblemIndex.build(problem)
    heuristic = dispatch(problem, index)
    if objective == "heuristic":
        outcome = _Outcome("heuristic" if heuristic else "infeasible", heuristic)
    else:
        settings = _Settings(began + time_limit_seconds, workers, seed)
        outcome = _optimise(index, objective, heuristic, settings)
    return _solution(index, objective, outcome, heuristic, time.perf_counter() - began)


def model_horizon(index: ProblemIndex, objective: str, heuristic: Schedule | None) -> int:
    """Upper bound on every end time that keeps an optimal schedule reachable."""
    if index.problem.horizon is not None:
        return index.problem.horizon
    heuristic_end = max(heuristic.ends.values(), default=0) if heuristic else None
    if objective == "makespan" and heuristic_end is not None:
        return heuristic_end
    base = max([heuristic_end or 0, *index.barriers.values(), *(end for _, end in index.frozen.values())])
    calendar_ends = [c.last_end for c in index.calendars.values() if c.last_end is not None]
    open_work = sum(
        t.duration for t in index.problem.tasks if not t.is_frozen and index.calendar_of(t).always_open
    )
    return max([base, *calendar_ends]) + open_work


def job_deadlines(index: ProblemIndex, heuristic: Schedule | None, horizon: int) -> dict[Hashable, int]:
    """Latest end of each due-dated job in any schedule no worse than the heuristic."""
    if heuristic is None or max(heuristic.ends.values(), default=0) > horizon:
        return {}
    _, tardiness, _ = evaluate(index, heuristic)
    return {
        job.id: job.due + tardiness // job.weight
        for job in index.problem.jobs
        if job.due is not None and job.weight > 0
    }


def _optimise(index: ProblemIndex, objective: str, heuristic: Schedule | None, settings: _Settings) -> _Outcome:
    horizon = model_horizon(index, objective, heuristic)
    deadlines = job_deadlines(index, heuristic, horizon) if objective == "weighted_tardiness" else {}
    windows = time_windows(index, horizon, deadlines, dict(index.frozen))
    if windows is None:
        return _Outcome("infeasible", None)
    if heuristic is not None and max(heuristic.ends.values(), default=0) <= horizon:
        if sum(not t.is_frozen for t in index.problem.tasks) > LARGE_PROBLEM_TASKS:
            space = lns.SearchSpace(index, objective, horizon, deadlines, settings.workers, settings.seed)
            return _large(space, windows, heuristic, settings)
    sm = cpsat.build_model(index, horizon, windows, dict(index.frozen))
    if sm is None:
        return _Outcome("infeasible", None)
    if heuristic is not None and max(heuristic.ends.values(), default=0) <= horizon:
        cpsat.add_hint(sm, heuristic)
    if objective == "makespan":
        result = cpsat.run_stage(sm, sm.makespan, settings.remaining(), settings.workers, settings.seed)
        return _from_stage(result, heuristic)
    return _lexicographic(sm, heuristic, settings)


def _large(space: lns.SearchSpace, windows: TimeWindows, heuristic: Schedule, settings: _Settings) -> _Outcome:
    """Neighbourhood search; for makespan, then the whole model hinted with its result, for a bound."""
    if space.objective != "makespan":
        schedule = lns.improve(space, heuristic, settings.deadline)
        return _Outcome("feasible", schedule, relaxed_tardiness_bound(space.index, windows))
    schedule = lns.improve(space, heuristic, settings.deadline - settings.remaining() * BOUND_SHARE)
    sm = cpsat.build_model(space.index, space.horizon, windows, dict(space.index.frozen))
    if sm is None:
        return _Outcome("feasible", schedule)
    cpsat.add_hint(sm, schedule)
    result = cpsat.run_stage(sm, sm.makespan, settings.remaining(), settings.workers, settings.seed, light=True)
    if result.schedule is not None and lns.score(space, result.schedule) < lns.score(space, schedule):
        schedule = result.schedule
    return _Outcome("optimal" if result.status == "optimal" else "feasible", schedule, result.bound)


def relaxed_tardiness_bound(index: ProblemIndex, windows: TimeWindows) -> int:
    """Weighted tardiness if every job ran at its earliest, capacity ignored (a valid lower bound)."""
    bound = 0
    for job in index.problem.jobs:
        if job.due is None or job.weight <= 0 or not index.routings[job.id]:
            continue
        ends = [index.frozen[t.id][1] for t in index.routings[job.id] if t.is_frozen]
        free = index.open_tasks(job.id)
        if free:
            last = free[-1]
            split = index.is_split(last)
            finish = index.calendar_of(last).finish(windows[last.id][0], last.duration, split)
            ends.append(windows[last.id][0] + last.duration if finish is None else finish)
        bound += job.weight * max(0, max(ends) - job.due)
    return bound


def _lexicographic(sm: cpsat.SchedulingModel, heuristic: Schedule | None, settings: _Settings) -> _Outcome:
    first: cpsat.StageResult | None = None
    if sm.tardiness_vars:
        budget = settings.remaining() * TARDINESS_SHARE
        first = cpsat.run_stage(sm, sm.tardiness, budget, settings.workers, settings.seed)
        if first.values is None or first.objective is None:
            return _from_stage(first, heuristic)
        sm.model.add(sm.tardiness <= first.objective)
        cpsat.hint_values(sm, first.values)
    second = cpsat.run_stage(sm, sm.makespan, settings.remaining(), settings.workers, settings.seed)
    if first is None:
        outcome = _from_stage(second, heuristic)
        if outcome.schedule is not None and outcome.status != "heuristic":
            outcome.lower_bound = evaluate(sm.index, outcome.schedule)[1]
        return outcome
    if second.schedule is None:
        return _Outcome("feasible", first.schedule, first.bound)
    proven = first.status == "optimal" and second.status == "optimal"
    return _Outcome("optimal" if proven else "feasible", second.schedule, first.bound)


def _from_stage(result: cpsat.StageResult, heuristic: Schedule | None) -> _Outcome:
    if result.schedule is not None:
        status: Status = "optimal" if result.status == "optimal" else "feasible"
        return _Outcome(status, result.schedule, result.bound)
    if result.status == "infeasible" or heuristic is None:
        return _Outcome("infeasible", None)
    return _Outcome("heuristic", heuristic)


def _solution(
    index: ProblemIndex, objective: str, outcome: _Outcome, heuristic: Schedule | None, seconds: float
) -> Solution:
    h_makespan, h_tardiness, _ = evaluate(index, heuristic) if heuristic else (0, 0, [])
    if outcome.schedule is None:
        return Solution("infeasible", {}, {}, 0, 0, [], None, None, seconds, h_makespan, h_tardiness)
    makespan, tardiness, late = evaluate(index, outcome.schedule)
    value = {"makespan": makespan, "weighted_tardiness": tardiness}.get(objective)
    return Solution(
        status=outcome.status,
        starts=dict(outcome.schedule.starts),
        ends=dict(outcome.schedule.ends),
        makespan=makespan,
        weighted_tardiness=tardiness,
        late_jobs=late,
        lower_bound=outcome.lower_bound,
        objective_value=value,
        wall_seconds=seconds,
        heuristic_makespan=h_makespan,
        heuristic_weighted_tardiness=h_tardiness,
    )
