"""Working time of work centers: weekly shifts, plus extra exceptions, minus closed ones."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Prefetch, Q

from mes.errors import InvalidInput
from orders.models import Calendar, CalendarException, WorkCenter

Interval = tuple[dt.datetime, dt.datetime]

# Exceptions are fetched with this many days of margin around the requested window, so a night
# shift or a day-long exception in a time zone far from UTC is never missed.
_MARGIN = dt.timedelta(days=2)


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and join overlapping or touching intervals; drop empty ones."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def subtract_intervals(intervals: list[Interval], removed: list[Interval]) -> list[Interval]:
    """``intervals`` minus ``removed`` (both merged and sorted)."""
    out: list[Interval] = []
    j = 0
    for start, end in intervals:
        cursor = start
        while j < len(removed) and removed[j][1] <= cursor:
            j += 1
        k = j
        while k < len(removed) and removed[k][0] < end:
            r_start, r_end = removed[k]
            if r_start > cursor:
                out.append((cursor, r_start))
            cursor = max(cursor, r_end)
            if cursor >= end:
                break
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def _local(day: dt.date, time: dt.time, zone) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=zone).astimezone(dt.UTC)


def _exception_interval(exception: CalendarException, zone) -> Interval:
    if exception.date is not None:
        last = exception.end_date or exception.date
        return _local(exception.date, dt.time(0), zone), _local(last + dt.timedelta(days=1), dt.time(0), zone)
    return exception.starts_at.astimezone(dt.UTC), exception.ends_at.astimezone(dt.UTC)


def calendar_intervals(*, calendar: Calendar, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """Working intervals of ``calendar`` clipped to ``[start, end)``, in UTC.

    ``calendar.shifts`` and ``calendar.exceptions`` should be prefetched (as
    :func:`working_intervals_for` does); otherwise they are read here.
    """
    zone = calendar.zone
    by_weekday: dict[int, list] = defaultdict(list)
    for shift in calendar.shifts.all():
        by_weekday[shift.weekday].append(shift)

    first_day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last_day = end.astimezone(zone).date()
    open_: list[Interval] = []
    day = first_day
    while day <= last_day:
        for shift in by_weekday.get(day.weekday(), ()):
            end_day = day + dt.timedelta(days=1) if shift.end <= shift.start else day
            open_.append((_local(day, shift.start, zone), _local(end_day, shift.end, zone)))
        day += dt.timedelta(days=1)

    closed: list[Interval] = []
    for exception in calendar.exceptions.all():
        interval = _exception_interval(exception, zone)
        if interval[1] <= start or interval[0] >= end:
            continue
        (open_ if exception.kind == CalendarException.Kind.EXTRA else closed).append(interval)

    working = subtract_intervals(merge_intervals(open_), merge_intervals(closed))
    start_utc, end_utc = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    return [(max(a, start_utc), min(b, end_utc)) for a, b in working if b > start_utc and a < end_utc]


def _check_window(start: dt.datetime, end: dt.datetime) -> None:
    if start.tzinfo is None or start.utcoffset() is None:
        raise InvalidInput("start must be an aware datetime (with a time zone).", field="start")
    if end.tzinfo is None or end.utcoffset() is None:
        raise InvalidInput("end must be an aware datetime (with a time zone).", field="end")


def working_intervals_for(
    *, work_centers: Iterable[WorkCenter | int], start: dt.datetime, end: dt.datetime
) -> dict[int, list[Interval]]:
    """Working intervals per work center id, in three queries whatever the number of centers.

    A work center without a calendar is open all the time: ``[(start, end)]``.
    """
    _check_window(start, end)
    ids = sorted({getattr(wc, "pk", wc) for wc in work_centers})
    if end <= start:
        return {pk: [] for pk in ids}
    window = Q(date__isnull=False, date__lte=(end + _MARGIN).date()) & (
        Q(end_date__gte=(start - _MARGIN).date()) | Q(end_date__isnull=True, date__gte=(start - _MARGIN).date())
    )
    window |= Q(starts_at__lt=end, ends_at__gt=start)
    centers = WorkCenter.objects.filter(pk__in=ids).select_related("calendar").prefetch_related(
        "calendar__shifts", Prefetch("calendar__exceptions", queryset=CalendarException.objects.filter(window))
    )
    result: dict[int, list[Interval]] = {}
    whole = [(start.astimezone(dt.UTC), end.astimezone(dt.UTC))]
    for center in centers:
        if center.calendar is None:
            result[center.pk] = list(whole)
        else:
            result[center.pk] = calendar_intervals(calendar=center.calendar, start=start, end=end)
    return result


def working_intervals(*, work_center: WorkCenter | int, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """The times ``work_center`` works between ``start`` and ``end``: sorted, non-overlapping
    ``(start, end)`` pairs of aware datetimes in UTC. No calendar: always open."""
    pk = getattr(work_center, "pk", work_center)
    return working_intervals_for(work_centers=[pk], start=start, end=end).get(pk, [])
