"""Calendars: weekly shifts, exceptions, and the working intervals the scheduler plans in."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders import services
from orders.models import Calendar, CalendarException, Shift
from orders.selectors import working_intervals, working_intervals_for
from orders.selectors.calendars import calendar_intervals, merge_intervals
from tests.factories import CalendarExceptionFactory, CalendarFactory, ShiftFactory, WorkCenterFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def at(day, hour, minute=0, tz=UTC):
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=tz)


def two_shift_calendar(**kwargs):
    calendar = CalendarFactory(**kwargs)
    for weekday in range(5):
        ShiftFactory(calendar=calendar, weekday=weekday, start=dt.time(6), end=dt.time(14))
        ShiftFactory(calendar=calendar, weekday=weekday, start=dt.time(14), end=dt.time(22))
    return calendar


def test_working_intervals_skip_the_weekend_and_a_holiday():
    # December 2026: Fri 18th, weekend 19th–20th, Mon 21st … Fri 25th (Christmas, closed).
    calendar = two_shift_calendar()
    CalendarExceptionFactory(calendar=calendar, kind="closed", date=dt.date(2026, 12, 25), reason="Christmas")
    center = WorkCenterFactory(calendar=calendar)
    intervals = working_intervals(work_center=center, start=at(18, 12), end=at(28, 0))
    assert intervals == [
        (at(18, 12), at(18, 22)),  # clipped at the start; the two shifts join into one interval
        (at(21, 6), at(21, 22)),
        (at(22, 6), at(22, 22)),
        (at(23, 6), at(23, 22)),
        (at(24, 6), at(24, 22)),
        # 25th closed, 26th–27th weekend
    ]


def test_a_work_center_without_a_calendar_is_always_open():
    center = WorkCenterFactory(calendar=None)
    assert working_intervals(work_center=center, start=at(19, 0), end=at(21, 0)) == [(at(19, 0), at(21, 0))]


def test_a_night_shift_crosses_midnight_and_an_exception_can_cut_it():
    calendar = CalendarFactory()
    ShiftFactory(calendar=calendar, weekday=4, start=dt.time(22), end=dt.time(6))  # Friday night
    CalendarExceptionFactory(
        calendar=calendar, kind="closed", date=None, starts_at=at(19, 2), ends_at=at(19, 3), reason="power maintenance"
    )
    center = WorkCenterFactory(calendar=calendar)
    assert working_intervals(work_center=center, start=at(14, 0), end=at(21, 0)) == [(at(18, 22), at(19, 2)), (at(19, 3), at(19, 6))]


def test_extra_working_time_adds_a_saturday_shift():
    calendar = two_shift_calendar()
    CalendarExceptionFactory(calendar=calendar, kind="extra", date=None, starts_at=at(19, 8), ends_at=at(19, 12), reason="catch-up")
    center = WorkCenterFactory(calendar=calendar)
    assert working_intervals(work_center=center, start=at(19, 0), end=at(20, 0)) == [(at(19, 8), at(19, 12))]


def test_shifts_are_wall_clock_times_in_the_calendars_time_zone():
    berlin = ZoneInfo("Europe/Berlin")
    calendar = CalendarFactory(timezone="Europe/Berlin")
    ShiftFactory(calendar=calendar, weekday=0, start=dt.time(6), end=dt.time(14))
    CalendarExceptionFactory(calendar=calendar, kind="closed", date=dt.date(2026, 12, 29))  # a Tuesday
    center = WorkCenterFactory(calendar=calendar)
    [(start, end)] = working_intervals(work_center=center, start=at(20, 0), end=at(23, 0))
    assert (start, end) == (at(21, 6, tz=berlin), at(21, 14, tz=berlin))
    assert (start.hour, end.hour) == (5, 13)  # 06:00–14:00 CET is 05:00–13:00 UTC
    # Across the summer-time change the same wall-clock shift moves in UTC.
    [(summer_start, _)] = working_intervals(
        work_center=center, start=dt.datetime(2026, 6, 1, tzinfo=UTC), end=dt.datetime(2026, 6, 2, tzinfo=UTC)
    )
    assert summer_start == dt.datetime(2026, 6, 1, 4, tzinfo=UTC)


def test_intervals_for_many_work_centers_take_a_fixed_number_of_queries(django_assert_max_num_queries):
    calendars = [two_shift_calendar() for _ in range(3)]
    for calendar in calendars:
        CalendarExceptionFactory(calendar=calendar, date=dt.date(2026, 12, 24))
    centers = [WorkCenterFactory(calendar=calendars[n % 3]) for n in range(12)] + [WorkCenterFactory()]
    with django_assert_max_num_queries(3):
        result = working_intervals_for(work_centers=centers, start=at(21, 0), end=at(28, 0))
    assert len(result) == 13
    assert [a.day for a, _ in result[centers[0].pk]] == [21, 22, 23, 25]  # 24th closed, then the weekend
    assert result[centers[-1].pk] == [(at(21, 0), at(28, 0))]


def test_naive_datetimes_are_refused():
    center = WorkCenterFactory()
    from mes.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        working_intervals(work_center=center, start=dt.datetime(2026, 1, 1), end=at(2, 0))
    assert refused.value.field == "start"


# --- against a minute-by-minute model --------------------------------------------------------

WEEK_START = dt.datetime(2026, 12, 14, tzinfo=UTC)  # a Monday


def _minutes_open(shifts, exceptions, start, end):
    """The reference: each minute is working when a shift or an extra exception covers it and no
    closed exception does."""
    opened = set()
    for minute in range(int((end - start).total_seconds() // 60)):
        t = start + dt.timedelta(minutes=minute)
        in_shift = False
        for weekday, s, e in shifts:
            for day in ((t - dt.timedelta(days=1)).date(), t.date()):
                if day.weekday() == weekday:
                    begin = dt.datetime.combine(day, s, tzinfo=UTC)
                    finish = dt.datetime.combine(day + dt.timedelta(days=1) if e <= s else day, e, tzinfo=UTC)
                    in_shift |= begin <= t < finish
        extra = any(kind == "extra" and a <= t < b for kind, a, b in exceptions)
        closed = any(kind == "closed" and a <= t < b for kind, a, b in exceptions)
        if (in_shift or extra) and not closed:
            opened.add(minute)
    return opened


def _as_minutes(intervals, start):
    out = set()
    for a, b in intervals:
        out.update(range(int((a - start).total_seconds() // 60), int((b - start).total_seconds() // 60)))
    return out


hours = st.integers(min_value=0, max_value=23).map(lambda h: dt.time(h))
shift_rows = st.lists(st.tuples(st.integers(0, 6), hours, hours), max_size=5, unique_by=lambda r: (r[0], r[1]))
offsets = st.integers(min_value=0, max_value=9 * 24)
exception_rows = st.lists(
    st.tuples(st.sampled_from(["closed", "extra"]), offsets, st.integers(min_value=1, max_value=30)), max_size=3
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shifts=shift_rows, exceptions=exception_rows, window=st.tuples(offsets, st.integers(1, 5 * 24)))
def test_intervals_match_a_minute_by_minute_model(shifts, exceptions, window):
    calendar = Calendar(pk=1, code="X", name="x", timezone="UTC")
    calendar._prefetched_objects_cache = {
        "shifts": [Shift(weekday=w, start=s, end=e) for w, s, e in shifts],
        "exceptions": [
            CalendarException(kind=kind, starts_at=WEEK_START + dt.timedelta(hours=o), ends_at=WEEK_START + dt.timedelta(hours=o + n))
            for kind, o, n in exceptions
        ],
    }
    start = WEEK_START + dt.timedelta(hours=window[0])
    end = start + dt.timedelta(hours=window[1])
    got = calendar_intervals(calendar=calendar, start=start, end=end)
    assert got == merge_intervals(got)  # sorted, disjoint, non-empty
    expected = _minutes_open(
        shifts,
        [(k, WEEK_START + dt.timedelta(hours=o), WEEK_START + dt.timedelta(hours=o + n)) for k, o, n in exceptions],
        start,
        end,
    )
    assert _as_minutes(got, start) == expected


def test_calendar_api_creates_shifts_and_exceptions_and_replaces_them(planner_client):
    body = {
        "code": "2SHIFT",
        "name": "Two shifts",
        "timezone": "Europe/Berlin",
        "shifts": [{"weekday": d, "start": "06:00", "end": "14:00"} for d in range(5)],
        "exceptions": [{"kind": "closed", "date": "2026-12-25", "reason": "Christmas"}],
    }
    response = planner_client.post("/api/v1/calendars/", body, format="json")
    assert response.status_code == 201, response.content
    calendar = Calendar.objects.get(code="2SHIFT")
    assert calendar.shifts.count() == 5 and calendar.exceptions.get().reason == "Christmas"
    url = f"/api/v1/calendars/{calendar.pk}/"
    assert planner_client.patch(url, {"shifts": [{"weekday": 5, "start": "08:00", "end": "12:00"}]}, format="json").status_code == 200
    assert list(calendar.shifts.values_list("weekday", flat=True)) == [5]
    assert calendar.exceptions.count() == 1  # not given: kept
    center = planner_client.post("/api/v1/work-centers/", {"code": "WC", "name": "w", "calendar": calendar.pk}, format="json")
    assert center.status_code == 201 and center.json()["calendar_code"] == "2SHIFT"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"exceptions": [{"kind": "closed", "date": "2026-12-25", "starts_at": "2026-12-25T00:00:00Z", "ends_at": "2026-12-26T00:00:00Z"}]}, "exceptions.0.starts_at"),
        ({"exceptions": [{"kind": "extra", "starts_at": "2026-12-25T10:00:00Z", "ends_at": "2026-12-25T09:00:00Z"}]}, "exceptions.0.ends_at"),
        ({"exceptions": [{"kind": "closed"}]}, "exceptions.0.date"),
        ({"shifts": [{"weekday": 7, "start": "06:00", "end": "14:00"}]}, "shifts.0.weekday"),
        ({"shifts": [{"weekday": 1, "start": "06:00", "end": "14:00"}, {"weekday": 1, "start": "06:00", "end": "10:00"}]}, "shifts.1.start"),
    ],
)
def test_calendar_refusals_name_the_field(planner_client, change, field):
    response = planner_client.post("/api/v1/calendars/", {"code": "C", "name": "c", **change}, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not Calendar.objects.exists()


def test_a_calendar_in_use_cannot_be_deleted(planner_client):
    center = WorkCenterFactory(calendar=two_shift_calendar())
    response = planner_client.delete(f"/api/v1/calendars/{center.calendar_id}/")
    assert response.status_code == 409
    assert Calendar.objects.filter(pk=center.calendar_id).exists()


def test_calendar_upsert_by_external_id_is_idempotent(erp_client):
    body = {"code": "CAL", "name": "c", "shifts": [{"weekday": 0, "start": "22:00", "end": "06:00"}]}
    first = erp_client.put("/api/v1/calendars/by-external-id/ERP-CAL/", body, format="json")
    again = erp_client.put("/api/v1/calendars/by-external-id/ERP-CAL/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert Calendar.objects.count() == 1 and Shift.objects.count() == 1


def test_service_keeps_shifts_when_not_given():
    calendar = services.calendar_create(data={"code": "K", "name": "k", "shifts": [{"weekday": 0, "start": dt.time(6), "end": dt.time(14)}]})
    services.calendar_update(calendar=calendar, data={"name": "renamed"})
    assert calendar.shifts.count() == 1
