"""OEE arithmetic (ISO 22400-2) on a shift computed by hand, and the OEE endpoint's contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orders.models import WorkCenter
from performance.selectors import oee_report, work_center_for_oee
from tests.performance.conftest import BERLIN, at

WEDNESDAY = dt.date(2026, 3, 4)  # winter time: Berlin is UTC+1


@pytest.fixture
def early_shift(press, floor):
    """Wednesday's early shift (06:00–14:00 Berlin) of the press, with everything that counts and
    everything that must not:

    * a planned break 10:00–10:30 (30 min, planned downtime);
    * a breakdown 07:00–07:45 and a material wait 07:30–07:40 inside it (merged: 45 min);
    * a breakdown 10:15–10:45 overlapping the break (only 10:30–10:45 is lost: 15 min);
    * a breakdown 13:45–14:30 running past the shift (only 13:45–14:00 counts: 15 min);
    * a breakdown 20:00–21:00 in the late shift (not this shift);
    * reports of 228 good and 12 scrap at 1.5 min per unit, a reversed report (not counted, nor
      its reversal), and reports just before 06:00 and at 14:00 (other periods).

    By hand: operating 480 min, planned downtime 30, planned busy 450, downtime 45+15+15 = 75,
    run time 375; ideal 240 × 1.5 = 360 min; availability 375/450, performance 360/375,
    quality 228/240 = 0.95, OEE = 360/450 × 0.95 = 0.76.
    """
    r = floor.reasons
    floor.downtime(press, r.brk, at(WEDNESDAY, 10), at(WEDNESDAY, 10, 30))
    floor.downtime(press, r.breakdown, at(WEDNESDAY, 7), at(WEDNESDAY, 7, 45))
    floor.downtime(press, r.material, at(WEDNESDAY, 7, 30), at(WEDNESDAY, 7, 40))
    floor.downtime(press, r.breakdown, at(WEDNESDAY, 10, 15), at(WEDNESDAY, 10, 45))
    floor.downtime(press, r.breakdown, at(WEDNESDAY, 13, 45), at(WEDNESDAY, 14, 30))
    floor.downtime(press, r.breakdown, at(WEDNESDAY, 20), at(WEDNESDAY, 21))
    op = floor.operation(press, run_minutes="1.5")
    floor.report(op, at(WEDNESDAY, 6, 30), 100, 5, r.solder)
    floor.report(op, at(WEDNESDAY, 9), 80, 4, r.cosmetic)
    floor.report(op, at(WEDNESDAY, 13, 59), 48, 3, r.solder)
    wrong = floor.report(op, at(WEDNESDAY, 11), 30, 0)
    floor.reverse(wrong, at(WEDNESDAY, 11, 5))
    floor.report(op, at(WEDNESDAY, 5, 59), 7)
    floor.report(op, at(WEDNESDAY, 14), 9)
    return press


def test_the_hand_computed_shift_gives_every_intermediate_figure(early_shift):
    report = oee_report(
        work_center=work_center_for_oee(early_shift.pk), start=at(WEDNESDAY, 6), end=at(WEDNESDAY, 14), now=at(WEDNESDAY, 23)
    )
    f = report.totals
    assert f.operating_time == dt.timedelta(minutes=480)
    assert f.planned_downtime == dt.timedelta(minutes=30)
    assert f.planned_busy_time == dt.timedelta(minutes=450)
    assert f.unplanned_downtime == dt.timedelta(minutes=75)
    assert f.actual_production_time == dt.timedelta(minutes=375)
    assert (f.good_quantity, f.scrap_quantity, f.produced_quantity) == (Decimal(228), Decimal(12), Decimal(240))
    assert f.reports == 3
    assert f.ideal_minutes == Decimal(360)
    assert f.ideal_cycle_minutes == Decimal("1.5")
    assert f.availability == Decimal(375) / Decimal(450)
    assert f.performance == Decimal(360) / Decimal(375)
    assert f.quality == Decimal("0.95")
    assert f.oee.quantize(Decimal("0.000001")) == Decimal("0.760000")


def test_the_endpoint_returns_the_figures_with_their_inputs(early_shift, operator_client):
    response = operator_client.get(
        "/api/v1/oee/",
        {"work_center": early_shift.pk, "start": "2026-03-04T06:00:00+01:00", "end": "2026-03-04T14:00:00+01:00"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["work_center"] == early_shift.pk and body["work_center_code"] == "PRESS"
    assert body["operating_time_minutes"] == 480.0
    assert body["planned_downtime_minutes"] == 30.0
    assert body["planned_busy_minutes"] == 450.0
    assert body["downtime_minutes"] == 75.0
    assert body["run_time_minutes"] == 375.0
    assert body["ideal_time_minutes"] == 360.0
    assert body["ideal_cycle_minutes"] == 1.5
    assert (body["produced_quantity"], body["good_quantity"], body["scrap_quantity"]) == ("240.000", "228.000", "12.000")
    assert body["availability"] == 0.8333
    assert body["performance"] == 0.96
    assert body["quality"] == 0.95
    assert body["oee"] == 0.76
    assert body["capacity"] == 1
    assert body["live_ranges"] == 1 and body["rolled_up_shifts"] == 0


def test_a_day_by_shift_puts_each_record_in_its_shift(early_shift, planner_client):
    response = planner_client.get(
        "/api/v1/oee/", {"work_center": early_shift.pk, "start": "2026-03-04", "end": "2026-03-05", "group_by": "shift"}
    )
    assert response.status_code == 200, response.content
    periods = response.json()["periods"]
    # midnight UTC is 01:00 in Berlin: off shift 01:00–06:00, early, late, off shift 22:00–01:00 (clipped)
    assert [(p["label"], p["kind"]) for p in periods] == [("off shift", "off_shift"), ("early", "shift"), ("late", "shift"), ("off shift", "off_shift")]
    off, early, late, _ = periods
    assert (off["good_quantity"], off["operating_time_minutes"], off["oee"]) == ("7.000", 0.0, None)
    assert (early["good_quantity"], early["oee"], early["downtime_minutes"]) == ("228.000", 0.76, 75.0)
    # the late shift: 14:00–14:30 and 20:00–21:00 down, 9 good at 1.5 min
    assert (late["good_quantity"], late["downtime_minutes"], late["run_time_minutes"]) == ("9.000", 90.0, 390.0)
    assert late["performance"] == round(13.5 / 390, 4)
    total = response.json()
    assert total["good_quantity"] == "244.000"
    assert total["operating_time_minutes"] == 960.0


def test_group_by_day_adds_the_shifts_that_start_that_day(early_shift, planner_client):
    response = planner_client.get(
        "/api/v1/oee/",
        {"work_center": early_shift.pk, "start": "2026-03-03T23:00:00Z", "end": "2026-03-05T23:00:00Z", "group_by": "day"},
    )
    days = {p["label"]: p for p in response.json()["periods"]}
    assert set(days) == {"2026-03-03", "2026-03-04", "2026-03-05"}
    assert days["2026-03-04"]["good_quantity"] == "237.000"  # 7 before the early shift belong to the night from the 3rd
    assert days["2026-03-03"]["good_quantity"] == "7.000"
    assert days["2026-03-04"]["operating_time_minutes"] == 960.0


def test_capacity_divides_the_ideal_time_and_cycles_are_weighted_by_units(floor):
    cell = WorkCenter.objects.create(code="CELL", name="Two-station cell", capacity=2)  # no calendar: always open
    slow, fast = floor.operation(cell, run_minutes="6"), floor.operation(cell, run_minutes="3")
    start = dt.datetime(2026, 3, 4, 8, tzinfo=dt.UTC)
    floor.report(slow, start + dt.timedelta(minutes=10), 38, 2, floor.reasons.solder)
    floor.report(fast, start + dt.timedelta(minutes=50), 20)
    f = oee_report(work_center=work_center_for_oee(cell.pk), start=start, end=start + dt.timedelta(hours=4), now=start + dt.timedelta(days=1)).totals
    assert f.operating_time == dt.timedelta(hours=4)
    assert f.ideal_unit_minutes == Decimal(6 * 40 + 3 * 20)
    assert f.ideal_minutes == Decimal(150)
    assert f.ideal_cycle_minutes == Decimal(5)
    assert f.performance == Decimal(150) / Decimal(240)
    assert f.quality == Decimal(58) / Decimal(60)


def test_no_planned_time_gives_nulls_not_errors(press, floor, operator_client):
    press.calendar.shifts.filter(weekday=6).delete()  # no Sunday shifts
    sunday = dt.date(2026, 3, 8)
    response = operator_client.get(
        "/api/v1/oee/", {"work_center": press.pk, "start": at(sunday, 0).isoformat(), "end": at(sunday + dt.timedelta(days=1), 0).isoformat()}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["planned_busy_minutes"] == 0.0
    assert [body[k] for k in ("availability", "performance", "quality", "oee", "ideal_cycle_minutes")] == [None] * 5


def test_a_shift_lost_entirely_to_a_breakdown_has_oee_zero(press, floor):
    floor.downtime(press, floor.reasons.breakdown, at(WEDNESDAY, 5), at(WEDNESDAY, 15))
    f = oee_report(work_center=work_center_for_oee(press.pk), start=at(WEDNESDAY, 6), end=at(WEDNESDAY, 14), now=at(WEDNESDAY, 23)).totals
    assert f.availability == 0 and f.performance is None and f.quality is None
    assert f.oee == 0


def test_an_open_downtime_runs_until_now_and_the_future_is_not_planned_yet(press, floor):
    floor.downtime(press, floor.reasons.breakdown, at(WEDNESDAY, 9), None)
    now = at(WEDNESDAY, 10)
    report = oee_report(work_center=work_center_for_oee(press.pk), start=at(WEDNESDAY, 6), end=at(WEDNESDAY, 14), now=now)
    assert report.measured_until == now
    assert report.totals.operating_time == dt.timedelta(hours=4)
    assert report.totals.unplanned_downtime == dt.timedelta(hours=1)
    assert report.totals.availability == Decimal("0.75")


def test_a_range_that_cuts_shifts_counts_only_its_part(early_shift):
    report = oee_report(
        work_center=work_center_for_oee(early_shift.pk), start=at(WEDNESDAY, 10), end=at(WEDNESDAY, 16), now=at(WEDNESDAY, 23)
    )
    f = report.totals
    # 10:00–14:00 of the early shift and 14:00–16:00 of the late one
    assert f.operating_time == dt.timedelta(hours=6)
    assert f.planned_downtime == dt.timedelta(minutes=30)
    assert f.unplanned_downtime == dt.timedelta(minutes=15 + 15 + 30)
    assert (f.good_quantity, f.scrap_quantity) == (Decimal(48 + 9), Decimal(3))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"work_center": None, "start": "2026-03-04", "end": "2026-03-05"}, "work_center"),
        ({"work_center": 999999, "start": "2026-03-04", "end": "2026-03-05"}, "work_center"),
        ({"work_center": "abc", "start": "2026-03-04", "end": "2026-03-05"}, "work_center"),
        ({"start": "yesterday", "end": "2026-03-05"}, "start"),
        ({"start": "2026-03-05", "end": "2026-03-04"}, "end"),
        ({"start": "2026-03-05", "end": "2026-03-05"}, "end"),
        ({"start": "2024-01-01", "end": "2026-03-05"}, "end"),
        ({"start": "2026-03-04"}, "end"),
        ({"start": "2026-03-04", "end": "2026-03-05", "group_by": "week"}, "group_by"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(params, field, press, operator_client):
    params = {k: v for k, v in {"work_center": press.pk, **params}.items() if v is not None}
    response = operator_client.get("/api/v1/oee/", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}


def test_an_unescaped_plus_of_the_offset_is_understood(early_shift, operator_client):
    response = operator_client.get(
        f"/api/v1/oee/?work_center={early_shift.pk}&start=2026-03-04T06:00:00+01:00&end=2026-03-04T14:00:00+01:00"
    )
    assert response.status_code == 200, response.content
    assert response.json()["oee"] == 0.76


@pytest.mark.parametrize("role", ["operator", "planner", "quality", "integration"])
def test_everyone_reads(role, press, api_client_for):
    response = api_client_for(role).get("/api/v1/oee/", {"work_center": press.pk, "start": "2026-03-04", "end": "2026-03-05"})
    assert response.status_code == 200


def test_anonymous_callers_get_nothing(press, anonymous_client):
    assert anonymous_client.get("/api/v1/oee/", {"work_center": press.pk, "start": "2026-03-04", "end": "2026-03-05"}).status_code == 401
    assert anonymous_client.get("/api/v1/kpis/", {"start": "2026-03-04", "end": "2026-03-05"}).status_code == 401


def test_berlin_shift_boundaries_are_wall_clock(press):
    """The early shift starts at 06:00 Berlin on both sides of the change to summer time."""
    from performance.periods import periods_between

    wc = work_center_for_oee(press.pk)
    for day in (dt.date(2026, 3, 28), dt.date(2026, 3, 30)):
        periods = periods_between(work_center=wc, start=at(day, 6), end=at(day, 7))
        assert [(p.starts_at.astimezone(BERLIN).time(), p.name) for p in periods] == [(dt.time(6), "early")]
        assert periods[0].ends_at - periods[0].starts_at == dt.timedelta(hours=8)
