"""Writes of the performance app: keeping the shift roll-ups.

``shift_performance_roll_up`` is what the periodic task runs: for each active work center it
writes a :class:`~performance.models.ShiftPerformance` row for every shift that has closed (and
settled) within the look-back window and has no valid row yet — new shifts, and shifts that a
late downtime, a reversal or a calendar change made stale — and removes rows of periods the
calendar no longer has. Running it twice changes nothing the second time; two runs at once
write the same figures (an upsert on the work center and shift start).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.models import WorkCenter
from performance.models import ShiftPerformance
from performance.periods import periods_between
from performance.selectors.figures import measure
from performance.selectors.oee import settle_time, usable_rollups

ROLLUP_FIELDS = [
    "ends_at",
    "kind",
    "name",
    "operating_time",
    "planned_downtime",
    "unplanned_downtime",
    "good_quantity",
    "scrap_quantity",
    "ideal_unit_minutes",
    "reports",
    "computed_at",
]


@dataclass
class RollUpResult:
    work_centers: int = 0
    written: int = 0
    removed: int = 0

    def as_dict(self) -> dict:
        return {"work_centers": self.work_centers, "written": self.written, "removed": self.removed}


def lookback_days() -> int:
    return int(getattr(settings, "MES_OEE_ROLLUP_DAYS", 35))


@transaction.atomic
def work_center_roll_up(*, work_center: WorkCenter, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> tuple[int, int]:
    """Roll up the closed shifts of one work center that lie wholly in ``[start, end)``; returns
    (rows written, rows removed)."""
    now = now or timezone.now()
    end = min(end, now - settle_time())
    if end <= start:
        return 0, 0
    periods = [p for p in periods_between(work_center=work_center, start=start, end=end) if p.starts_at >= start and p.ends_at <= end]
    if not periods:
        return 0, 0
    valid = usable_rollups(work_center=work_center, periods=periods)
    todo = [p for p in periods if p.starts_at not in valid]
    rows = []
    for period, figures in zip(todo, measure(work_center=work_center, ranges=[(p.starts_at, p.ends_at) for p in todo], now=now)):
        rows.append(
            ShiftPerformance(
                work_center=work_center,
                starts_at=period.starts_at,
                ends_at=period.ends_at,
                kind=period.kind,
                name=period.name[:64],
                operating_time=figures.operating_time,
                planned_downtime=figures.planned_downtime,
                unplanned_downtime=figures.unplanned_downtime,
                good_quantity=figures.good_quantity,
                scrap_quantity=figures.scrap_quantity,
                ideal_unit_minutes=figures.ideal_unit_minutes,
                reports=figures.reports,
                computed_at=now,
            )
        )
    # Anything rolled up before the horizon that is no longer a closed period (a shift the calendar
    # lost, also one after the last period still closed) goes.
    starts = {p.starts_at for p in periods}
    removed, _ = (
        ShiftPerformance.objects.filter(work_center=work_center, starts_at__lt=end, ends_at__gt=periods[0].starts_at)
        .exclude(starts_at__in=starts)
        .delete()
    )
    if rows:
        ShiftPerformance.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["work_center", "starts_at"], update_fields=ROLLUP_FIELDS
        )
    return len(rows), removed


def shift_performance_roll_up(*, now: dt.datetime | None = None, days: int | None = None) -> RollUpResult:
    """Roll up every active work center's closed shifts of the last ``days`` days (default
    ``MES_OEE_ROLLUP_DAYS``), one transaction per work center."""
    now = now or timezone.now()
    start = now - dt.timedelta(days=days if days is not None else lookback_days())
    result = RollUpResult()
    centers = WorkCenter.objects.filter(is_active=True).select_related("calendar").prefetch_related("calendar__shifts").order_by("pk")
    for work_center in centers:
        written, removed = work_center_roll_up(work_center=work_center, start=start, end=now, now=now)
        result.work_centers += 1
        result.written += written
        result.removed += removed
    return result
