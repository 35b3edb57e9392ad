"""Behaviour of the finite-capacity scheduling engine (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.scheduling import (
    Job,
    Problem,
    Resource,
    Task,
    check_solution,
    dispatch,
    parse_orlibrary,
    solve,
    to_problem,
)
from orders.scheduling.calendar import Calendar

REPO = Path(__file__).resolve().parents[2]
JOBSHOP_DIRS = (REPO / "bench" / "jobshop", Path("/work/shared/benchmarks/jobshop"))

DAY = 24 * 60
WEEK = 7 * DAY


def two_shift_week(weeks: int = 2) -> tuple[tuple[int, int], ...]:
    """Monday–Friday, 06:00–14:00 and 14:00–22:00; time zero is Monday 00:00."""
    return tuple(
        (w * WEEK + d * DAY + begin, w * WEEK + d * DAY + end)
        for w in range(weeks)
        for d in range(5)
        for begin, end in ((360, 840), (840, 1320))
    )


def is_closed(minute: int) -> bool:
    day, clock = divmod(minute % WEEK, DAY)
    return day >= 5 or not 360 <= clock < 1320


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def solve_all(problem: Problem, objective: str = "makespan", seconds: float = 5.0):
    return solve(problem, objective=objective, time_limit_seconds=seconds, workers=1)


def single_job_tasks(job_id: str, resource_id: str, durations: list[int]) -> list[Task]:
    return [Task(f"{job_id}-{k}", job_id, k, resource_id, d) for k, d in enumerate(durations)]


def test_no_two_tasks_overlap_on_a_capacity_one_resource():
    jobs = [Job(f"J{i}") for i in range(4)]
    tasks = [Task(f"T{i}", f"J{i}", 1, "M", 10 + i) for i in range(4)]
    problem = Problem([Resource("M")], jobs, tasks)
    solution = solve_all(problem)
    spans = [(solution.starts[t.id], solution.ends[t.id]) for t in tasks]
    assert not any(overlaps(a, b) for i, a in enumerate(spans) for b in spans[i + 1 :])
    assert solution.makespan == sum(t.duration for t in tasks)
    assert check_solution(problem, solution) == []


def test_capacity_two_resource_runs_two_at_once_and_never_three():
    jobs = [Job(f"J{i}") for i in range(5)]
    tasks = [Task(f"T{i}", f"J{i}", 1, "M", 10) for i in range(5)]
    problem = Problem([Resource("M", capacity=2)], jobs, tasks)
    solution = solve_all(problem)
    assert solution.status == "optimal"
    assert solution.makespan == 30
    for minute in range(solution.makespan):
        running = sum(solution.starts[t.id] <= minute < solution.ends[t.id] for t in tasks)
        assert running <= 2
    assert max(sum(solution.starts[t.id] <= m < solution.ends[t.id] for t in tasks) for m in range(30)) == 2
    assert check_solution(problem, solution) == []


def test_routing_order_holds():
    resources = [Resource("A"), Resource("B"), Resource("C")]
    jobs = [Job("J1"), Job("J2")]
    tasks = [
        Task("J1-1", "J1", 10, "A", 5),
        Task("J1-2", "J1", 20, "B", 7),
        Task("J1-3", "J1", 30, "C", 3),
        Task("J2-1", "J2", 10, "C", 4),
        Task("J2-2", "J2", 20, "B", 6),
        Task("J2-3", "J2", 30, "A", 2),
    ]
    problem = Problem(resources, jobs, tasks)
    solution = solve_all(problem)
    for first, second in (("J1-1", "J1-2"), ("J1-2", "J1-3"), ("J2-1", "J2-2"), ("J2-2", "J2-3")):
        assert solution.starts[second] >= solution.ends[first]
    assert check_solution(problem, solution) == []


def test_tasks_are_ordered_by_sequence_not_by_list_position():
    tasks = [Task("late", "J", 20, "A", 5), Task("early", "J", 10, "B", 5)]
    problem = Problem([Resource("A"), Resource("B")], [Job("J")], tasks)
    solution = solve_all(problem)
    assert solution.starts["late"] >= solution.ends["early"]


def test_release_time_is_respected():
    problem = Problem(
        [Resource("M")],
        [Job("early"), Job("held", release=100)],
        [Task("a", "early", 1, "M", 30), Task("b", "held", 1, "M", 30)],
    )
    for objective in ("makespan", "heuristic", "weighted_tardiness"):
        solution = solve_all(problem, objective)
        assert solution.starts["b"] >= 100
        assert check_solution(problem, solution) == []


def test_frozen_task_stays_exactly_and_others_work_around_it():
    tasks = [
        Task("running", "J0", 1, "M", 40, frozen_start=-10, frozen_end=30),
        Task("done", "J0", 0, "M", 10, frozen_start=-25, frozen_end=-12),
        Task("a", "J1", 1, "M", 20),
        Task("b", "J2", 1, "M", 25),
        Task("next", "J0", 2, "M", 5),
    ]
    problem = Problem([Resource("M")], [Job("J0"), Job("J1"), Job("J2")], tasks)
    for objective in ("makespan", "heuristic"):
        solution = solve_all(problem, objective)
        assert (solution.starts["running"], solution.ends["running"]) == (-10, 30)
        assert (solution.starts["done"], solution.ends["done"]) == (-25, -12)
        for task_id in ("a", "b", "next"):
            assert solution.starts[task_id] >= 30
        assert check_solution(problem, solution) == []


def test_frozen_task_blocks_one_of_two_units():
    tasks = [
        Task("running", "J0", 1, "M", 60, frozen_start=0, frozen_end=60),
        Task("a", "J1", 1, "M", 30),
        Task("b", "J2", 1, "M", 30),
    ]
    problem = Problem([Resource("M", capacity=2)], [Job("J0"), Job("J1"), Job("J2")], tasks)
    solution = solve_all(problem)
    assert solution.makespan == 60
    assert sorted((solution.starts["a"], solution.starts["b"])) == [0, 30]
    assert check_solution(problem, solution) == []


def test_checker_reports_a_moved_frozen_task_and_an_overlap():
    tasks = [Task("f", "J0", 1, "M", 10, frozen_start=0, frozen_end=10), Task("a", "J1", 1, "M", 10)]
    problem = Problem([Resource("M")], [Job("J0"), Job("J1")], tasks)
    bad = dispatch(problem)
    assert bad is not None
    bad.starts["f"], bad.ends["f"] = 5, 15
    bad.starts["a"], bad.ends["a"] = 0, 10
    violations = check_solution(problem, bad)
    assert any("frozen" in v for v in violations)
    assert any("runs 2 tasks" in v for v in violations)


@pytest.mark.parametrize("objective", ["makespan", "heuristic"])
def test_calendar_task_never_runs_in_closed_time(objective):
    calendar = two_shift_week()
    resources = [Resource("M", open_intervals=calendar), Resource("S", open_intervals=calendar, allow_split=True)]
    jobs = [Job(f"J{i}", release=4 * DAY + 1000) for i in range(6)]
    tasks = [Task(f"T{i}", f"J{i}", 1, "M" if i % 2 else "S", 200) for i in range(6)]
    problem = Problem(resources, jobs, tasks)
    solution = solve_all(problem, objective)
    assert check_solution(problem, solution) == []
    for task in tasks:
        start, end = solution.starts[task.id], solution.ends[task.id]
        worked = [m for m in range(start, end) if not is_closed(m)]
        assert len(worked) == task.duration
        assert not is_closed(start)
        assert not is_closed(end - 1)


def test_unsplit_task_sits_inside_one_open_window():
    calendar = two_shift_week()
    problem = Problem(
        [Resource("M", open_intervals=calendar)],
        [Job("J", release=DAY + 1200)],
        [Task("T", "J", 1, "M", 300)],
    )
    solution = solve_all(problem)
    start, end = solution.starts["T"], solution.ends["T"]
    assert (start, end) == (2 * DAY + 360, 2 * DAY + 660)
    windows = Calendar(calendar)
    assert any(a <= start and end <= b for a, b in zip(windows.starts, windows.ends, strict=True))


def test_split_task_spans_a_night_and_consumes_exactly_its_working_minutes():
    calendar = two_shift_week()
    problem = Problem(
        [Resource("S", open_intervals=calendar, allow_split=True)],
        [Job("J", release=DAY + 1200)],
        [Task("T", "J", 1, "S", 300)],
    )
    solution = solve_all(problem)
    start, end = solution.starts["T"], solution.ends["T"]
    assert start == DAY + 1200
    assert end == 2 * DAY + 360 + 180
    assert sum(not is_closed(m) for m in range(start, end)) == 300
    assert check_solution(problem, solution) == []


def test_split_task_spans_a_weekend():
    calendar = two_shift_week()
    problem = Problem(
        [Resource("S", open_intervals=calendar, allow_split=True)],
        [Job("J", release=4 * DAY + 1300)],
        [Task("T", "J", 1, "S", 100)],
    )
    solution = solve_all(problem)
    assert solution.starts["T"] == 4 * DAY + 1300
    assert solution.ends["T"] == WEEK + 360 + 80


def test_task_longer_than_every_window_is_infeasible_unless_split():
    calendar = ((0, 100), (200, 300))
    tasks = [Task("T", "J", 1, "M", 150)]
    unsplit = Problem([Resource("M", open_intervals=calendar)], [Job("J")], tasks)
    split = Problem([Resource("M", open_intervals=calendar, allow_split=True)], [Job("J")], tasks)
    assert solve_all(unsplit).status == "infeasible"
    solution = solve_all(split)
    assert (solution.starts["T"], solution.ends["T"]) == (0, 250)


def find_instance(name: str) -> Path | None:
    for folder in JOBSHOP_DIRS:
        if (folder / f"{name}.txt").exists():
            return folder / f"{name}.txt"
    return None


def test_ft06_solves_to_its_optimum_of_55():
    path = find_instance("ft06")
    if path is None:
        pytest.skip("job-shop benchmark instances are not available")
    instance = parse_orlibrary(path.read_text())
    assert (instance.jobs, instance.machines) == (6, 6)
    problem = to_problem(instance)
    solution = solve(problem, objective="makespan", time_limit_seconds=30.0, seed=1)
    assert solution.status == "optimal"
    assert solution.makespan == 55
    assert solution.lower_bound == 55
    assert solution.heuristic_makespan >= 55
    assert check_solution(problem, solution) == []


def test_orlibrary_parser_skips_names_comments_and_blank_lines():
    text = "+++\n instance tiny\n +++\n a tiny example (2 x 2)\n\n2 2\n0 3 1 2\n\n1 4 0 1\n+++\n"
    instance = parse_orlibrary(text)
    assert instance.jobs == 2 and instance.machines == 2
    assert instance.operations == [[(0, 3), (1, 2)], [(1, 4), (0, 1)]]
    problem = to_problem(instance)
    assert len(problem.resources) == 2 and len(problem.tasks) == 4


def edd_trap() -> Problem:
    """Earliest due date first serves the light order and delays the heavy one."""
    jobs = [Job("light", due=10, weight=1), Job("heavy", due=11, weight=10)]
    tasks = [Task("light-1", "light", 1, "M", 10), Task("heavy-1", "heavy", 1, "M", 10)]
    return Problem([Resource("M")], jobs, tasks)


def test_weighted_tardiness_beats_earliest_due_date_where_it_is_suboptimal():
    problem = edd_trap()
    heuristic = solve_all(problem, "heuristic")
    assert heuristic.weighted_tardiness == 90
    solution = solve_all(problem, "weighted_tardiness")
    assert solution.status == "optimal"
    assert solution.weighted_tardiness == 10
    assert solution.late_jobs == ["light"]
    assert solution.heuristic_weighted_tardiness == 90
    assert solution.lower_bound == 10
    assert check_solution(problem, solution) == []


def test_weighted_tardiness_then_makespan_is_lexicographic():
    jobs = [Job("due", due=100, weight=1), Job("free")]
    tasks = [
        Task("due-1", "due", 1, "A", 50),
        Task("free-1", "free", 1, "A", 30),
        Task("free-2", "free", 2, "B", 60),
    ]
    problem = Problem([Resource("A"), Resource("B")], jobs, tasks)
    solution = solve_all(problem, "weighted_tardiness")
    assert solution.weighted_tardiness == 0
    assert solution.makespan == 90
    assert solution.status == "optimal"


def test_heuristic_objective_returns_heuristic_status():
    solution = solve_all(edd_trap(), "heuristic")
    assert solution.status == "heuristic"
    assert solution.lower_bound is None
    assert solution.makespan == 20


def test_unknown_objective_is_rejected():
    with pytest.raises(ValueError):
        solve(edd_trap(), objective="fastest")


CALENDARS = (None, ((0, 50), (80, 200), (260, 300), (400, 10_000)), ((10, 60), (70, 130), (150, 10_000)))


@st.composite
def small_problems(draw) -> Problem:
    resources = [
        Resource(
            f"R{r}",
            capacity=draw(st.integers(1, 2)),
            open_intervals=draw(st.sampled_from(CALENDARS)),
            allow_split=draw(st.booleans()),
        )
        for r in range(draw(st.integers(2, 4)))
    ]
    jobs: list[Job] = []
    tasks: list[Task] = []
    for j in range(draw(st.integers(1, 6))):
        due = draw(st.one_of(st.none(), st.integers(0, 200)))
        jobs.append(Job(f"J{j}", release=draw(st.integers(0, 60)), due=due, weight=draw(st.integers(1, 3))))
        for k in range(draw(st.integers(1, 4))):
            resource = draw(st.sampled_from(resources))
            tasks.append(Task(f"J{j}-{k}", f"J{j}", k, resource.id, draw(st.integers(0, 40))))
    if draw(st.booleans()):
        first = tasks[0]
        start = draw(st.integers(-20, 40))
        tasks[0] = Task(first.id, first.job_id, first.sequence, first.resource_id, first.duration, start, start + first.duration)
    return Problem(resources, jobs, tasks)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems(), st.sampled_from(["weighted_tardiness", "makespan"]))
def test_random_small_problems_get_schedules_without_violations(problem, objective):
    heuristic = solve(problem, objective="heuristic")
    assert heuristic.status == "heuristic"
    assert check_solution(problem, heuristic) == []
    solution = solve(problem, objective=objective, time_limit_seconds=1.0, workers=1)
    assert solution.status in ("optimal", "feasible")
    assert check_solution(problem, solution) == []
    if objective == "makespan":
        assert solution.makespan <= heuristic.makespan
    else:
        assert solution.weighted_tardiness <= heuristic.weighted_tardiness
