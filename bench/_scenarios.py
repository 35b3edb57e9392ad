"""Seeded scheduling scenarios shared by the benchmarks.

Time zero is a Monday 00:00; times are minutes.
"""

from __future__ import annotations

import random

from orders.scheduling import Job, Problem, Resource, Task

DAY = 24 * 60
WEEK = 7 * DAY
SHIFTS = ((6 * 60, 14 * 60), (14 * 60, 22 * 60))
WORKDAY = 16 * 60
RELEASE_WEEKS = 3.0
LEAD_FACTOR = (2.0, 4.0)
LEAD_DAYS = (0.0, 2.0)


def two_shift_calendar(weeks: int) -> tuple[tuple[int, int], ...]:
    """Monday–Friday, early shift 06:00–14:00 and late shift 14:00–22:00."""
    return tuple(
        (week * WEEK + day * DAY + begin, week * WEEK + day * DAY + end)
        for week in range(weeks)
        for day in range(5)
        for begin, end in SHIFTS
    )


def make_realistic_problem(
    seed: int = 0,
    *,
    jobs: int = 500,
    resources: int = 20,
    weeks: int = 6,
) -> Problem:
    """Work orders of 4–6 operations on two-shift work centers over several weeks.

    A quarter of the work centers have two parallel units; half of them let an
    operation run over a night or weekend (interruptible), the others need it
    to fit in one working day. Due dates are tight: many orders are late under
    earliest-due-date dispatching.
    """
    rng = random.Random(seed)
    calendar = two_shift_calendar(weeks)
    centers = [
        Resource(id=f"WC{r + 1:02d}", capacity=2 if r % 4 == 0 else 1, open_intervals=calendar, allow_split=r % 2 == 0)
        for r in range(resources)
    ]
    job_list: list[Job] = []
    task_list: list[Task] = []
    release_span = int(RELEASE_WEEKS * 5 * WORKDAY)
    for j in range(jobs):
        job_id = f"WO{j + 1:04d}"
        route = rng.sample(centers, rng.randint(4, 6))
        durations = [rng.randint(20, 180) if center.allow_split else rng.randint(10, 120) for center in route]
        release = 0 if rng.random() < 0.2 else _working_instant(rng.randint(0, release_span))
        lead = int(sum(durations) * rng.uniform(*LEAD_FACTOR)) + int(rng.uniform(*LEAD_DAYS) * WORKDAY)
        due = _working_instant(_working_minutes(release) + lead)
        job_list.append(Job(id=job_id, release=release, due=due, weight=rng.choice((1, 1, 1, 2, 2, 3))))
        task_list.extend(
            Task(id=f"{job_id}-{k + 1}", job_id=job_id, sequence=10 * (k + 1), resource_id=c.id, duration=d)
            for k, (c, d) in enumerate(zip(route, durations, strict=True))
        )
    return Problem(resources=centers, jobs=job_list, tasks=task_list)


def _working_instant(working_minutes: int) -> int:
    """Calendar instant after the given number of two-shift working minutes."""
    days, minute = divmod(working_minutes, WORKDAY)
    week, day = divmod(days, 5)
    return week * WEEK + day * DAY + SHIFTS[0][0] + minute


def _working_minutes(instant: int) -> int:
    """Two-shift working minutes between time zero and ``instant``."""
    week, rest = divmod(instant, WEEK)
    day, minute = divmod(rest, DAY)
    if day >= 5:
        return (week * 5 + 5) * WORKDAY
    return (week * 5 + day) * WORKDAY + min(max(minute - SHIFTS[0][0], 0), WORKDAY)
