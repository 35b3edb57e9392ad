"""The periods OEE is rolled up by: the shifts of a work center's calendar, end to end.

Every instant belongs to exactly one period of a work center, so figures of consecutive periods
add up to the figures of the whole range:

* a work center with a calendar: each weekly shift on each day is a period (``shift``), from its
  start to its end in the calendar's time zone; the time between two shifts is a period of its
  own (``off_shift``: nights, weekends, where only extra working time counts). Overlapping
  shifts are cut where the earlier one ends. A calendar without shifts has one off-shift period
  per calendar day.
* a work center without a calendar (always open): three eight-hour blocks a day (``block``),
  from midnight in ``settings.TIME_ZONE``.

Periods are fixed by the calendar, not by the range asked for: the period around an instant is
the same whichever range contains it, which is what lets roll-ups be found again by their start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.conf import settings

from orders.models import WorkCenter
from performance.models import PeriodKind

# Shift instances are expanded this far around the range, so the shifts before and after it are
# known (a calendar with a single weekly shift has one in every seven days).
_MARGIN_DAYS = 8
BLOCK_HOURS = (0, 8, 16)


@dataclass(frozen=True)
class Period:
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str
    name: str
    day: dt.date  # the production day: the local date the period starts on

    def clip(self, start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
        """The part of the period within ``[start, end)``, or None."""
        a, b = max(self.starts_at, start), min(self.ends_at, end)
        return (a, b) if b > a else None


def zone_of(work_center: WorkCenter) -> ZoneInfo:
    return work_center.calendar.zone if work_center.calendar_id else ZoneInfo(settings.TIME_ZONE)


def _local(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=zone).astimezone(dt.UTC)


def _days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def _blocks(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> list[Period]:
    first = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    bounds = []
    for day in _days(first, last):
        for hour in BLOCK_HOURS:
            bounds.append((_local(day, dt.time(hour), zone), day, hour))
    out = []
    for (a, day, hour), (b, _, _) in pairwise(bounds):
        out.append(Period(a, b, PeriodKind.BLOCK, f"{hour:02d}:00–{(hour + 8) % 24:02d}:00", day))
    return out


def _shift_instances(work_center: WorkCenter, start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> list[Period]:
    first = start.astimezone(zone).date() - dt.timedelta(days=_MARGIN_DAYS)
    last = end.astimezone(zone).date() + dt.timedelta(days=_MARGIN_DAYS)
    shifts = list(work_center.calendar.shifts.all())
    instances = []
    for day in _days(first, last):
        for shift in shifts:
            if shift.weekday != day.weekday():
                continue
            end_day = day + dt.timedelta(days=1) if shift.end <= shift.start else day
            name = shift.name or f"{shift.start:%H:%M}–{shift.end:%H:%M}"
            instances.append(Period(_local(day, shift.start, zone), _local(end_day, shift.end, zone), PeriodKind.SHIFT, name, day))
    instances.sort(key=lambda p: (p.starts_at, p.ends_at))
    out: list[Period] = []
    for period in instances:
        if out and period.starts_at < out[-1].ends_at:
            if period.ends_at <= out[-1].ends_at:
                continue
            period = Period(out[-1].ends_at, period.ends_at, period.kind, period.name, period.day)
        if out and period.starts_at > out[-1].ends_at:
            gap_start = out[-1].ends_at
            out.append(Period(gap_start, period.starts_at, PeriodKind.OFF_SHIFT, "off shift", gap_start.astimezone(zone).date()))
        out.append(period)
    return out


def _calendar_days(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> list[Period]:
    first = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    return [
        Period(_local(day, dt.time(0), zone), _local(day + dt.timedelta(days=1), dt.time(0), zone), PeriodKind.OFF_SHIFT, "no shifts", day)
        for day in _days(first, last)
    ]


def periods_between(*, work_center: WorkCenter, start: dt.datetime, end: dt.datetime) -> list[Period]:
    """The periods of ``work_center`` that overlap ``[start, end)``, in order, whole (the first
    may start before ``start``, the last end after ``end``). ``calendar.shifts`` should be
    prefetched."""
    if end <= start:
        return []
    zone = zone_of(work_center)
    if work_center.calendar_id is None:
        candidates = _blocks(start, end, zone)
    else:
        candidates = _shift_instances(work_center, start, end, zone) or _calendar_days(start, end, zone)
    return [p for p in candidates if p.ends_at > start and p.starts_at < end]
