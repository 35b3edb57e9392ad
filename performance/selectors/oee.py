"""OEE of a work center over a range: roll-ups for closed shifts, the rest computed live.

A roll-up row (:class:`performance.models.ShiftPerformance`) is used for a period that lies
wholly in the range only while it is still true:

* it was computed at least ``MES_OEE_SETTLE_MINUTES`` after its shift ended (reports still
  committing at the end of the shift are in it);
* the work center and its calendar were not changed after it was computed (capacity, shifts,
  exceptions);
* no downtime of the work center overlapping the shift was recorded or closed after it was
  computed, and no report of the shift was reversed after it was computed.

Anything else (the open shift, the edges of the range, a period without a valid row) is measured
live from the records; the figures of all the pieces add up (:mod:`performance.selectors.figures`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from orders.models import DowntimeEvent, ProductionReport, WorkCenter
from performance.models import ShiftPerformance
from performance.periods import Period, periods_between
from performance.selectors.figures import Figures, measure

# A write this close before a roll-up was computed may not have been visible to it.
STALE_SLACK = dt.timedelta(minutes=2)


def settle_time() -> dt.timedelta:
    return dt.timedelta(minutes=getattr(settings, "MES_OEE_SETTLE_MINUTES", 10))


@dataclass
class PeriodFigures:
    period: Period
    start: dt.datetime
    end: dt.datetime
    figures: Figures


@dataclass
class OEEReport:
    work_center: WorkCenter
    start: dt.datetime
    end: dt.datetime
    measured_until: dt.datetime
    totals: Figures
    pieces: list[PeriodFigures] = field(default_factory=list)

    def grouped(self, group_by: str | None) -> list[dict]:
        """Figures per shift (``shift``) or per production day (``day``: the shifts that start on
        that local date), in order."""
        if group_by == "shift":
            return [
                {
                    "start": piece.start,
                    "end": piece.end,
                    "label": piece.period.name,
                    "kind": piece.period.kind,
                    "day": piece.period.day,
                    **piece.figures.as_dict(),
                }
                for piece in self.pieces
            ]
        if group_by == "day":
            days: dict = defaultdict(list)
            for piece in self.pieces:
                days[piece.period.day].append(piece)
            out = []
            for day, pieces in sorted(days.items()):
                total = sum((p.figures for p in pieces), Figures(capacity=self.work_center.capacity))
                out.append(
                    {"start": pieces[0].start, "end": pieces[-1].end, "label": day.isoformat(), "kind": "day", "day": day, **total.as_dict()}
                )
            return out
        return []


def work_center_for_oee(pk: int) -> WorkCenter:
    return WorkCenter.objects.select_related("calendar").prefetch_related("calendar__shifts").get(pk=pk)


def _changed_at(work_center: WorkCenter) -> dt.datetime:
    changed = work_center.updated_at
    if work_center.calendar_id and work_center.calendar.updated_at > changed:
        changed = work_center.calendar.updated_at
    return changed


def stale_rollups(*, work_center: WorkCenter, rows: list[ShiftPerformance]) -> set[int]:
    """The ids of ``rows`` that records written after them may have changed (two queries)."""
    if not rows:
        return set()
    changed = _changed_at(work_center)
    stale = {row.pk for row in rows if row.computed_at - STALE_SLACK <= changed}
    fresh = [row for row in rows if row.pk not in stale]
    if not fresh:
        return stale
    watermark = min(row.computed_at for row in fresh) - STALE_SLACK
    start, end = min(row.starts_at for row in fresh), max(row.ends_at for row in fresh)
    touched = (
        DowntimeEvent.objects.filter(work_center_id=work_center.pk, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .filter(Q(opened_at__gte=watermark) | Q(closed_at__gte=watermark))
        .values_list("started_at", "ended_at", "opened_at", "closed_at")
    )
    for started, ended, opened_at, closed_at in touched:
        written = max(opened_at, closed_at or opened_at)
        for row in fresh:
            overlaps = row.starts_at < (ended or dt.datetime.max.replace(tzinfo=dt.UTC)) and started < row.ends_at
            if overlaps and row.computed_at - STALE_SLACK <= written:
                stale.add(row.pk)
    reversals = ProductionReport.objects.filter(
        kind=ProductionReport.Kind.REVERSAL,
        created_at__gte=watermark,
        reverses__operation__work_center_id=work_center.pk,
        reverses__created_at__gte=start,
        reverses__created_at__lt=end,
    ).values_list("created_at", "reverses__created_at")
    for written, original in reversals:
        for row in fresh:
            if row.starts_at <= original < row.ends_at and row.computed_at - STALE_SLACK <= written:
                stale.add(row.pk)
    return stale


def usable_rollups(*, work_center: WorkCenter, periods: list[Period]) -> dict[dt.datetime, ShiftPerformance]:
    """Valid roll-up rows of the given whole periods, by start."""
    if not periods:
        return {}
    wanted = {(p.starts_at, p.ends_at) for p in periods}
    rows = [
        row
        for row in ShiftPerformance.objects.filter(
            work_center_id=work_center.pk, starts_at__gte=periods[0].starts_at, ends_at__lte=periods[-1].ends_at
        )
        if (row.starts_at, row.ends_at) in wanted and row.computed_at >= row.ends_at + settle_time()
    ]
    stale = stale_rollups(work_center=work_center, rows=rows)
    return {row.starts_at: row for row in rows if row.pk not in stale}


def oee_report(*, work_center: WorkCenter, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> OEEReport:
    """OEE of ``work_center`` over ``[start, end)``, measured up to now for a range that has not
    ended yet (the future has no planned time yet)."""
    now = now or timezone.now()
    until = min(end, now)
    periods = periods_between(work_center=work_center, start=start, end=until) if until > start else []
    whole = [p for p in periods if p.starts_at >= start and p.ends_at <= until]
    rollups = usable_rollups(work_center=work_center, periods=whole)
    pieces: list[PeriodFigures] = []
    live: list[PeriodFigures] = []
    for period in periods:
        a, b = period.clip(start, until)
        row = rollups.get(period.starts_at) if (a, b) == (period.starts_at, period.ends_at) else None
        piece = PeriodFigures(period=period, start=a, end=b, figures=Figures.from_rollup(row, capacity=work_center.capacity) if row else None)
        pieces.append(piece)
        if row is None:
            live.append(piece)
    for piece, figures in zip(live, measure(work_center=work_center, ranges=[(p.start, p.end) for p in live], now=now)):
        piece.figures = figures
    totals = sum((p.figures for p in pieces), Figures(capacity=work_center.capacity))
    return OEEReport(work_center=work_center, start=start, end=end, measured_until=max(until, start), totals=totals, pieces=pieces)
