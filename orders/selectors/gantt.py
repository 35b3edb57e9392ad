"""The plan as a Gantt chart: one row per work center, one lane per unit, one bar per operation.

Positions are percentages of the chart's time span, ready for a server-side rendered page
(``admin/orders/schedule_gantt.html``). Two sources: a schedule run's own plan (what it
computed, published or not) and the operations' current planned times.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from orders.models import ScheduleRun, WorkCenter, WorkOrderOperation
from orders.selectors.calendars import working_intervals_for
from orders.selectors.scheduling import FROZEN_OPERATION_STATUSES, SCHEDULED_ORDER_STATUSES

TICK_STEPS_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440, 2880, 10080, 20160, 40320)
MAX_TICKS = 24


@dataclass
class GanttBar:
    operation_id: int
    work_order_id: int
    number: str
    sequence: int
    name: str
    status: str
    start: dt.datetime
    end: dt.datetime
    late: bool
    frozen: bool
    left: float = 0.0
    width: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.number}/{self.sequence}"

    @property
    def title(self) -> str:
        return f"{self.number} op {self.sequence} {self.name} · {self.status} · {self.start:%a %Y-%m-%d %H:%M} → {self.end:%a %Y-%m-%d %H:%M} UTC"


@dataclass
class GanttRow:
    work_center: WorkCenter
    lanes: list[list[GanttBar]] = field(default_factory=list)
    closed: list[tuple[float, float]] = field(default_factory=list)
    busy_minutes: int = 0

    @property
    def height(self) -> int:
        return max(len(self.lanes), 1) * 22 + 4


@dataclass
class GanttChart:
    start: dt.datetime
    end: dt.datetime
    rows: list[GanttRow]
    ticks: list[tuple[float, str]]
    bars: int

    @property
    def span_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


def _operations(ids=None, *, work_center: int | None = None):
    rows = WorkOrderOperation.objects.select_related("work_order", "work_center")
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    if work_center is not None:
        rows = rows.filter(work_center_id=work_center)
    return rows.only(
        "id", "sequence", "name", "status", "work_center_id", "planned_start", "planned_end", "work_order_id",
        "work_order__number", "work_order__due_at", "work_order__status",
        "work_center__code", "work_center__name", "work_center__capacity", "work_center__calendar_id",
    ).order_by("work_center__code", "planned_start", "pk")


def _tick_step(span_minutes: int) -> int:
    for step in TICK_STEPS_MINUTES:
        if span_minutes / step <= MAX_TICKS:
            return step
    return TICK_STEPS_MINUTES[-1]


def _ticks(start: dt.datetime, end: dt.datetime) -> list[tuple[float, str]]:
    span = (end - start).total_seconds() / 60
    if span <= 0:
        return []
    step = _tick_step(int(span))
    fmt = "%a %d %b" if step >= 1440 else "%a %H:%M" if step >= 60 else "%H:%M"
    epoch = dt.datetime(2000, 1, 3, tzinfo=dt.UTC)  # a Monday: weekly ticks fall on Mondays
    offset = (start - epoch).total_seconds() / 60
    first = start + dt.timedelta(minutes=(-offset) % step)
    ticks = []
    moment = first
    while moment <= end:
        ticks.append((100.0 * (moment - start).total_seconds() / 60 / span, moment.strftime(fmt)))
        moment += dt.timedelta(minutes=step)
    return ticks


def _lanes(bars: list[GanttBar]) -> list[list[GanttBar]]:
    """Greedy interval partitioning: each bar in the first lane free at its start."""
    lanes: list[list[GanttBar]] = []
    for bar in sorted(bars, key=lambda b: (b.start, b.end)):
        for lane in lanes:
            if lane[-1].end <= bar.start:
                lane.append(bar)
                break
        else:
            lanes.append([bar])
    return lanes


def _chart(bars_by_center: dict[int, list[GanttBar]], centers: dict[int, WorkCenter]) -> GanttChart:
    every = [bar for bars in bars_by_center.values() for bar in bars]
    if not every:
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        return GanttChart(now, now, [], [], 0)
    start = min(bar.start for bar in every)
    end = max(bar.end for bar in every)
    if end <= start:
        end = start + dt.timedelta(minutes=1)
    span = (end - start).total_seconds()
    with_calendar = [pk for pk, c in centers.items() if c.calendar_id]
    open_times = working_intervals_for(work_centers=with_calendar, start=start, end=end) if with_calendar else {}
    rows = []
    for pk, center in sorted(centers.items(), key=lambda item: item[1].code):
        bars = bars_by_center.get(pk, [])
        for bar in bars:
            bar.left = 100.0 * (bar.start - start).total_seconds() / span
            bar.width = max(100.0 * (bar.end - bar.start).total_seconds() / span, 0.15)
        row = GanttRow(work_center=center, lanes=_lanes(bars), busy_minutes=sum(int((b.end - b.start).total_seconds() // 60) for b in bars))
        if pk in open_times:
            cursor = start
            for a, b in [*open_times[pk], (end, end)]:
                if a > cursor:
                    row.closed.append((100.0 * (cursor - start).total_seconds() / span, 100.0 * (a - cursor).total_seconds() / span))
                cursor = max(cursor, b)
        rows.append(row)
    return GanttChart(start=start, end=end, rows=rows, ticks=_ticks(start, end), bars=len(every))


def gantt_for_run(*, run: ScheduleRun, work_center: int | None = None) -> GanttChart:
    """The plan a run computed (published or not), from its own record."""
    if not run.plan or run.planned_from is None:
        return _chart({}, {})
    late = {row["work_order"] for row in run.late_work_orders}
    by_center: dict[int, list[GanttBar]] = defaultdict(list)
    centers: dict[int, WorkCenter] = {}
    for op in _operations((int(key) for key in run.plan), work_center=work_center):
        start_minute, end_minute = run.plan[str(op.pk)]
        centers[op.work_center_id] = op.work_center
        by_center[op.work_center_id].append(
            GanttBar(
                operation_id=op.pk,
                work_order_id=op.work_order_id,
                number=op.work_order.number,
                sequence=op.sequence,
                name=op.name,
                status=op.status,
                start=run.planned_from + dt.timedelta(minutes=start_minute),
                end=run.planned_from + dt.timedelta(minutes=end_minute),
                late=op.work_order_id in late,
                frozen=op.status in FROZEN_OPERATION_STATUSES,
            )
        )
    return _chart(by_center, centers)


def gantt_current(*, work_center: int | None = None) -> GanttChart:
    """The operations of released and running orders as currently planned."""
    rows = _operations(work_center=work_center).filter(
        work_order__status__in=SCHEDULED_ORDER_STATUSES, planned_start__isnull=False, planned_end__isnull=False
    )
    by_center: dict[int, list[GanttBar]] = defaultdict(list)
    centers: dict[int, WorkCenter] = {}
    for op in rows:
        centers[op.work_center_id] = op.work_center
        due = op.work_order.due_at
        by_center[op.work_center_id].append(
            GanttBar(
                operation_id=op.pk,
                work_order_id=op.work_order_id,
                number=op.work_order.number,
                sequence=op.sequence,
                name=op.name,
                status=op.status,
                start=op.planned_start,
                end=op.planned_end,
                late=due is not None and op.planned_end > due,
                frozen=op.status in FROZEN_OPERATION_STATUSES,
            )
        )
    return _chart(by_center, centers)
