"""The additive inputs of OEE for time ranges of one work center, computed from the records.

For a range of a work center (ISO 22400-2 names in brackets):

* operating time: the calendar's working time in the range (shifts and extra time, less closed
  exceptions); a work center without a calendar is always open;
* planned downtime (PDOT): downtime events whose reason is planned (breaks, planned
  maintenance), within the operating time;
* planned busy time (PBT) = operating time − planned downtime;
* unplanned downtime (ADOT): the other downtime events, within the planned busy time;
* actual production time (APT) = PBT − unplanned downtime;
* counts: good and scrap quantities of the production reports made at the work center's
  operations in the range (by the server's time of the report; a reversed report is not
  counted at all, the reversal neither); produced quantity (PQ) = good (GQ) + scrap;
* ideal time = Σ run minutes per unit of the operation (copied from the routing at release)
  × units handled, divided by the work center's capacity (parallel units).

Downtime events are merged before they are clipped, so overlapping events are not counted twice;
an open event runs until now. Every figure is a sum over instants, so the figures of disjoint
ranges add up to those of their union.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from mes.quantities import ZERO
from orders.models import DowntimeEvent, ProductionReport, WorkCenter
from orders.selectors import merge_intervals, working_intervals
from orders.selectors.calendars import subtract_intervals

Interval = tuple[dt.datetime, dt.datetime]
NO_TIME = dt.timedelta(0)
MICROSECONDS_PER_MINUTE = 60_000_000
RATIO_PLACES = Decimal("0.0001")
MINUTE_PLACES = Decimal("0.01")


def minutes(duration: dt.timedelta) -> Decimal:
    """A duration in minutes, exactly."""
    return Decimal(duration // dt.timedelta(microseconds=1)) / MICROSECONDS_PER_MINUTE


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if not denominator else numerator / denominator


def rounded(value: Decimal | None, places: Decimal = RATIO_PLACES) -> float | None:
    return None if value is None else float(value.quantize(places, rounding=ROUND_HALF_UP))


@dataclass
class Figures:
    """The additive inputs of OEE for some time of one work center."""

    operating_time: dt.timedelta = NO_TIME
    planned_downtime: dt.timedelta = NO_TIME
    unplanned_downtime: dt.timedelta = NO_TIME
    good_quantity: Decimal = ZERO
    scrap_quantity: Decimal = ZERO
    ideal_unit_minutes: Decimal = Decimal(0)
    reports: int = 0
    capacity: int = 1
    sources: dict = field(default_factory=lambda: {"rolled_up": 0, "live": 0})

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            operating_time=self.operating_time + other.operating_time,
            planned_downtime=self.planned_downtime + other.planned_downtime,
            unplanned_downtime=self.unplanned_downtime + other.unplanned_downtime,
            good_quantity=self.good_quantity + other.good_quantity,
            scrap_quantity=self.scrap_quantity + other.scrap_quantity,
            ideal_unit_minutes=self.ideal_unit_minutes + other.ideal_unit_minutes,
            reports=self.reports + other.reports,
            capacity=max(self.capacity, other.capacity),
            sources={key: self.sources.get(key, 0) + other.sources.get(key, 0) for key in {*self.sources, *other.sources}},
        )

    @classmethod
    def from_rollup(cls, row, *, capacity: int) -> Figures:
        return cls(
            operating_time=row.operating_time,
            planned_downtime=row.planned_downtime,
            unplanned_downtime=row.unplanned_downtime,
            good_quantity=row.good_quantity,
            scrap_quantity=row.scrap_quantity,
            ideal_unit_minutes=row.ideal_unit_minutes,
            reports=row.reports,
            capacity=capacity,
            sources={"rolled_up": 1, "live": 0},
        )

    # --- derived figures (ISO 22400-2) ---

    @property
    def planned_busy_time(self) -> dt.timedelta:
        return self.operating_time - self.planned_downtime

    @property
    def actual_production_time(self) -> dt.timedelta:
        return self.planned_busy_time - self.unplanned_downtime

    @property
    def produced_quantity(self) -> Decimal:
        return self.good_quantity + self.scrap_quantity

    @property
    def ideal_minutes(self) -> Decimal:
        return self.ideal_unit_minutes / self.capacity

    @property
    def ideal_cycle_minutes(self) -> Decimal | None:
        """Ideal minutes per unit at one station, weighted by the units handled."""
        return ratio(self.ideal_unit_minutes, self.produced_quantity)

    @property
    def availability(self) -> Decimal | None:
        return ratio(minutes(self.actual_production_time), minutes(self.planned_busy_time))

    @property
    def performance(self) -> Decimal | None:
        return ratio(self.ideal_minutes, minutes(self.actual_production_time))

    @property
    def quality(self) -> Decimal | None:
        return ratio(self.good_quantity, self.produced_quantity)

    @property
    def oee(self) -> Decimal | None:
        """Availability × performance × quality; 0 when nothing could be (or was) made in the
        planned busy time, null when no time was planned."""
        a, p, q = self.availability, self.performance, self.quality
        if a is None:
            return None
        if a == 0 or p == 0:
            return Decimal(0)
        if p is None or q is None:
            return None
        return a * p * q

    def as_dict(self) -> dict:
        return {
            "availability": rounded(self.availability),
            "performance": rounded(self.performance),
            "quality": rounded(self.quality),
            "oee": rounded(self.oee),
            "operating_time_minutes": rounded(minutes(self.operating_time), MINUTE_PLACES),
            "planned_downtime_minutes": rounded(minutes(self.planned_downtime), MINUTE_PLACES),
            "planned_busy_minutes": rounded(minutes(self.planned_busy_time), MINUTE_PLACES),
            "downtime_minutes": rounded(minutes(self.unplanned_downtime), MINUTE_PLACES),
            "run_time_minutes": rounded(minutes(self.actual_production_time), MINUTE_PLACES),
            "ideal_time_minutes": rounded(self.ideal_minutes, MINUTE_PLACES),
            "ideal_cycle_minutes": rounded(self.ideal_cycle_minutes),
            "capacity": self.capacity,
            "produced_quantity": self.produced_quantity,
            "good_quantity": self.good_quantity,
            "scrap_quantity": self.scrap_quantity,
            "reports": self.reports,
        }


def _length(intervals: Iterable[Interval]) -> dt.timedelta:
    return sum((b - a for a, b in intervals), NO_TIME)


def _clip(intervals: Sequence[Interval], start: dt.datetime, end: dt.datetime) -> list[Interval]:
    return [(max(a, start), min(b, end)) for a, b in intervals if b > start and a < end]


def _intersect(left: Sequence[Interval], right: Sequence[Interval]) -> list[Interval]:
    """The intersection of two sorted, disjoint interval lists."""
    out, i, j = [], 0, 0
    while i < len(left) and j < len(right):
        a, b = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if b > a:
            out.append((a, b))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def _downtime(work_center_id: int, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> tuple[list[Interval], list[Interval]]:
    """Planned and unplanned stops of the work center overlapping ``[start, end)``, each merged."""
    rows = (
        DowntimeEvent.objects.filter(work_center_id=work_center_id, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .values_list("started_at", "ended_at", "reason__is_planned")
    )
    planned, unplanned = [], []
    for started, ended, is_planned in rows:
        (planned if is_planned else unplanned).append((started, ended if ended is not None else max(now, started)))
    return merge_intervals(planned), merge_intervals(unplanned)


def counted_reports(*, work_center_id: int | None = None):
    """Production reports that count: reports (not reversals) that were not reversed."""
    reports = ProductionReport.objects.filter(kind=ProductionReport.Kind.REPORT, reversed_by__isnull=True)
    if work_center_id is not None:
        reports = reports.filter(operation__work_center_id=work_center_id)
    return reports


def measure(*, work_center: WorkCenter, ranges: Sequence[Interval], now: dt.datetime | None = None) -> list[Figures]:
    """Figures for each of ``ranges`` (sorted, disjoint) of one work center, in five queries
    whatever their number: the calendar (three), the downtime, the reports."""
    if not ranges:
        return []
    now = now or timezone.now()
    span_start, span_end = ranges[0][0], ranges[-1][1]
    working = working_intervals(work_center=work_center, start=span_start, end=span_end)
    planned, unplanned = _downtime(work_center.pk, span_start, span_end, now)
    in_ranges = Q()
    for a, b in merge_intervals(ranges):
        in_ranges |= Q(created_at__gte=a, created_at__lt=b)
    reports = (
        counted_reports(work_center_id=work_center.pk)
        .filter(in_ranges)
        .values_list("created_at", "quantity_good", "quantity_scrap", "operation__run_minutes_per_unit")
    )
    out = []
    for start, end in ranges:
        operating = _clip(working, start, end)
        planned_stops = _intersect(operating, _clip(planned, start, end))
        busy = subtract_intervals(operating, planned_stops)
        unplanned_stops = _intersect(busy, _clip(unplanned, start, end))
        out.append(
            Figures(
                operating_time=_length(operating),
                planned_downtime=_length(planned_stops),
                unplanned_downtime=_length(unplanned_stops),
                capacity=work_center.capacity,
                sources={"rolled_up": 0, "live": 1},
            )
        )
    starts = [start for start, _ in ranges]
    for created_at, good, scrap, run_minutes in reports:
        index = bisect.bisect_right(starts, created_at) - 1
        if index < 0 or created_at >= ranges[index][1]:
            continue
        figures = out[index]
        figures.good_quantity += good
        figures.scrap_quantity += scrap
        figures.ideal_unit_minutes += (run_minutes or 0) * (good + scrap)
        figures.reports += 1
    return out
