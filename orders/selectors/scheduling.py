"""What a schedule run reads: the released work as the engine's problem, and a digest of it.

:func:`schedule_build` reads every released or in-progress work order's operations and turns
them into an engine :class:`~orders.scheduling.Problem`; times are whole minutes from the
horizon start ``planned_from`` (the requested start, never before now, rounded up to a minute):

* one resource per work center with its ``capacity`` units; its calendar windows come from
  :func:`orders.selectors.working_intervals_for` (no calendar: always open), and
  ``allow_split_across_breaks`` says whether an operation may stop at a break and go on later;
* one job per work order: released not before its ``release_time`` (else ``released_at``) nor
  before the horizon start; due at ``due_at``; weighted by priority (:func:`priority_weight`);
* one task per operation not done: setup + run per unit × quantity left (ordered − good),
  rounded up to whole minutes. Running and paused operations are frozen at their actual start (the
  horizon start when they started earlier) with the run time they have left; done ones are left
  out, and what follows them starts after now;
* the calendars are read for two weeks, then twice as far, until the dispatching rule places
  every operation, and then clipped a margin past that rule's makespan (no better schedule needs
  working time beyond it, and a short calendar keeps the solver's model small);
* :func:`schedule_fingerprint`: a digest of every row read — orders, operations, work centers,
  shifts and calendar exceptions — so a run can tell whether anything changed underneath.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from mes.errors import ApplicationError
from mes.quantities import ZERO
from orders import errors
from orders.models import (
    CalendarException,
    OperationStatus,
    Shift,
    WorkCenter,
    WorkOrderOperation,
    WorkOrderStatus,
)
from orders.scheduling import Job, Problem, Resource, Schedule, Task, dispatch
from orders.selectors.calendars import working_intervals_for

SCHEDULED_ORDER_STATUSES = (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)
FROZEN_OPERATION_STATUSES = frozenset({OperationStatus.RUNNING, OperationStatus.PAUSED})
FIRST_HORIZON_DAYS = 14
MAX_HORIZON_DAYS = 4 * 366
DAY_MINUTES = 24 * 60
MINUTE = dt.timedelta(minutes=1)


def priority_weight(priority: int) -> int:
    """Weight of a work order's minutes late: 1 at priority 0–9, 6 at the default 50, 11 at 100."""
    return 1 + max(int(priority), 0) // 10


@dataclass(frozen=True)
class OperationInput:
    work_order_id: int
    frozen: bool
    actual_start: dt.datetime | None


@dataclass(frozen=True)
class OrderInput:
    number: str
    due_at: dt.datetime | None
    weight: int


@dataclass
class ScheduleInput:
    """What :func:`schedule_build` read, as the engine's problem and as row ids for publishing."""

    planned_from: dt.datetime
    horizon_end: dt.datetime
    problem: Problem
    heuristic: Schedule
    fingerprint: str
    operations: dict[int, OperationInput] = field(default_factory=dict)
    orders: dict[int, OrderInput] = field(default_factory=dict)
    order_ids: list[int] = field(default_factory=list)

    def at(self, minute: int) -> dt.datetime:
        return self.planned_from + minute * MINUTE


def _minutes(origin: dt.datetime, moment: dt.datetime, *, up: bool) -> int:
    seconds = (moment - origin).total_seconds()
    return math.ceil(seconds / 60 - 1e-9) if up else math.floor(seconds / 60 + 1e-9)


def _ceil_minute(moment: dt.datetime) -> dt.datetime:
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + MINUTE


def _duration(operation: WorkOrderOperation, frozen: bool) -> int:
    left = max(operation.work_order.quantity - operation.quantity_good, ZERO)
    minutes = Decimal(operation.run_minutes_per_unit) * left
    if not frozen:
        minutes += Decimal(operation.setup_minutes)
    return max(math.ceil(minutes), 0)


def read_operations() -> list[WorkOrderOperation]:
    """Every operation of the orders to schedule, with its order, in one query."""
    return list(
        WorkOrderOperation.objects.filter(work_order__status__in=SCHEDULED_ORDER_STATUSES)
        .select_related("work_order")
        .only(
            "id",
            "work_order_id",
            "sequence",
            "work_center_id",
            "status",
            "setup_minutes",
            "run_minutes_per_unit",
            "quantity_good",
            "actual_start",
            "work_order__id",
            "work_order__number",
            "work_order__status",
            "work_order__quantity",
            "work_order__due_at",
            "work_order__priority",
            "work_order__release_time",
            "work_order__released_at",
        )
        .order_by("work_order_id", "sequence", "pk")
    )


def schedule_fingerprint(operations: list[WorkOrderOperation]) -> str:
    """Digest of the rows a schedule depends on (planned times excluded: they are its output)."""
    orders: dict[int, tuple] = {}
    rows: list[tuple] = []
    for op in operations:
        wo = op.work_order
        orders[wo.pk] = (wo.pk, wo.status, wo.quantity, wo.due_at, wo.priority, wo.release_time, wo.released_at)
        rows.append(
            (op.pk, op.work_order_id, op.sequence, op.work_center_id, op.status, op.setup_minutes,
             op.run_minutes_per_unit, op.quantity_good, op.actual_start)
        )
    center_ids = sorted({op.work_center_id for op in operations})
    centers = list(
        WorkCenter.objects.filter(pk__in=center_ids)
        .order_by("pk")
        .values_list("pk", "capacity", "calendar_id", "allow_split_across_breaks", "calendar__timezone")
    )
    calendar_ids = sorted({c[2] for c in centers if c[2] is not None})
    shifts = list(
        Shift.objects.filter(calendar_id__in=calendar_ids).order_by("pk").values_list("pk", "calendar_id", "weekday", "start", "end")
    )
    exceptions = list(
        CalendarException.objects.filter(calendar_id__in=calendar_ids)
        .order_by("pk")
        .values_list("pk", "calendar_id", "kind", "date", "end_date", "starts_at", "ends_at")
    )
    document = [sorted(orders.values()), rows, centers, shifts, exceptions]
    return hashlib.sha256(json.dumps(document, default=str, separators=(",", ":")).encode()).hexdigest()


def _minute_windows(intervals, origin: dt.datetime) -> tuple[tuple[int, int], ...]:
    windows = []
    for start, end in intervals:
        a, b = _minutes(origin, start, up=True), _minutes(origin, end, up=False)
        if b > a:
            windows.append((a, b))
    return tuple(windows)


def _clip(windows: tuple[tuple[int, int], ...], end: int) -> tuple[tuple[int, int], ...]:
    return tuple((a, min(b, end)) for a, b in windows if a < end)


def _unplaceable(tasks: list[Task], resources: dict[int, Resource]) -> list[int]:
    """Operations longer than every window of a work center that does not split them."""
    found = []
    for task in tasks:
        resource = resources[task.resource_id]
        if resource.open_intervals is None or task.is_frozen or (resource.allow_split and task.duration > 0):
            continue
        longest = max((b - a for a, b in resource.open_intervals), default=0)
        if task.duration > longest:
            found.append(task.id)
    return found


def schedule_build(*, horizon_start: dt.datetime | None = None) -> ScheduleInput:
    """Read the work to schedule and turn it into the engine's problem (see the module doc).

    Raises ``schedule_infeasible`` (409) when an operation fits nowhere in its calendar."""
    now = timezone.now()
    planned_from = _ceil_minute(max(horizon_start or now, now))
    operations = read_operations()
    fingerprint = schedule_fingerprint(operations)

    orders: dict[int, OrderInput] = {}
    jobs: list[Job] = []
    tasks: list[Task] = []
    op_inputs: dict[int, OperationInput] = {}
    center_ids: set[int] = set()
    for op in operations:
        wo = op.work_order
        if op.status == OperationStatus.DONE:
            continue
        if wo.pk not in orders:
            orders[wo.pk] = OrderInput(wo.number, wo.due_at, priority_weight(wo.priority))
            released = wo.release_time or wo.released_at
            release = max(_minutes(planned_from, released, up=True), 0) if released else 0
            due = _minutes(planned_from, wo.due_at, up=False) if wo.due_at else None
            jobs.append(Job(id=wo.pk, release=release, due=due, weight=orders[wo.pk].weight))
        frozen = op.status in FROZEN_OPERATION_STATUSES
        frozen_start = None
        if frozen:
            frozen_start = max(_minutes(planned_from, op.actual_start or now, up=True), 0)
        tasks.append(
            Task(
                id=op.pk,
                job_id=wo.pk,
                sequence=op.sequence,
                resource_id=op.work_center_id,
                duration=_duration(op, frozen),
                frozen_start=frozen_start,
            )
        )
        op_inputs[op.pk] = OperationInput(wo.pk, frozen, op.actual_start)
        center_ids.add(op.work_center_id)

    centers = {c.pk: c for c in WorkCenter.objects.filter(pk__in=center_ids).order_by("pk")}
    with_calendar = [pk for pk, c in centers.items() if c.calendar_id is not None]
    days = FIRST_HORIZON_DAYS
    while True:
        horizon_end = planned_from + dt.timedelta(days=days)
        intervals = working_intervals_for(work_centers=with_calendar, start=planned_from, end=horizon_end) if with_calendar else {}
        resources = {
            pk: Resource(
                id=pk,
                capacity=c.capacity,
                open_intervals=_minute_windows(intervals.get(pk, []), planned_from) if c.calendar_id else None,
                allow_split=c.allow_split_across_breaks,
            )
            for pk, c in centers.items()
        }
        problem = Problem(resources=list(resources.values()), jobs=jobs, tasks=tasks)
        heuristic = dispatch(problem)
        if heuristic is not None:
            break
        too_long = _unplaceable(tasks, resources)
        if too_long or days >= MAX_HORIZON_DAYS:
            raise ApplicationError(
                "Some operations fit nowhere in their work center's calendar"
                + (f" (operations {', '.join(map(str, too_long[:20]))} are longer than any working window)." if too_long else f" within {days} days."),
                code=errors.SCHEDULE_INFEASIBLE,
                extra={"operations": too_long[:100]},
            )
        days = min(days * 2, MAX_HORIZON_DAYS)

    if with_calendar:
        # Past the rule's makespan (plus a margin) no better schedule needs working time.
        heuristic_end = max(heuristic.ends.values(), default=0)
        cut = heuristic_end + max(DAY_MINUTES, heuristic_end // 4)
        clipped = [
            r if r.open_intervals is None else Resource(r.id, r.capacity, _clip(r.open_intervals, cut), r.allow_split)
            for r in resources.values()
        ]
        problem = Problem(resources=clipped, jobs=jobs, tasks=tasks)
        horizon_end = min(horizon_end, planned_from + cut * MINUTE)
    return ScheduleInput(
        planned_from=planned_from,
        horizon_end=horizon_end,
        problem=problem,
        heuristic=heuristic,
        fingerprint=fingerprint,
        operations=op_inputs,
        orders=orders,
        order_ids=sorted({op.work_order_id for op in operations}),
    )
