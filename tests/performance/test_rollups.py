"""Shift roll-ups: the periodic task writes them, the OEE endpoint answers closed shifts from
them with the same figures as the live computation, and anything written after a roll-up that
changes its shift (a late downtime, a reversal, a calendar change) sends that shift back to the
records until the task rolls it up again."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import connection
from django.utils import timezone

from orders.models import Calendar, WorkCenter
from performance.models import ShiftPerformance
from performance.selectors import measure, oee_report, work_center_for_oee
from performance.selectors.oee import settle_time
from performance.services import shift_performance_roll_up
from performance.tasks import roll_up_shifts
from tests.performance.conftest import BERLIN, at


def _backdate_master_data(*centers):
    past = timezone.now() - dt.timedelta(days=30)
    WorkCenter.objects.filter(pk__in=[c.pk for c in centers]).update(updated_at=past)
    Calendar.objects.update(updated_at=past)


@pytest.fixture
def three_days(press, floor):
    """Three days of the press before today, every shift with reports, some with downtime,
    written when they happened."""
    _backdate_master_data(press)
    r = floor.reasons
    op = floor.operation(press, run_minutes="2")
    other = floor.operation(press, run_minutes="0.5")
    today = timezone.localdate(timezone.now(), timezone=BERLIN)
    start = at(today - dt.timedelta(days=3), 6)  # the early shift three days ago …
    end = at(today - dt.timedelta(days=1), 22)  # … to the end of yesterday's late shift
    for hour in range(0, 64, 3):
        when = start + dt.timedelta(hours=hour, minutes=17)
        floor.report(op, when, 20 + hour % 7, hour % 3, r.solder)
        floor.report(other, when + dt.timedelta(minutes=40), 50)
        if hour % 9 == 0:
            floor.downtime(press, r.breakdown, when, when + dt.timedelta(minutes=25 + hour % 11))
        if hour % 12 == 0:
            floor.downtime(press, r.brk, when + dt.timedelta(hours=1), when + dt.timedelta(hours=1, minutes=30))
    return press, start, end


def _live(work_center, report):
    """The same pieces measured from the records only."""
    return measure(work_center=work_center, ranges=[(p.start, p.end) for p in report.pieces], now=report.measured_until)


def test_the_roll_up_gives_the_same_figures_as_the_live_computation(three_days):
    press, start, end = three_days
    now = timezone.now()
    result = shift_performance_roll_up(now=now, days=5)
    assert result.written > 0
    wc = work_center_for_oee(press.pk)
    report = oee_report(work_center=wc, start=start, end=end, now=now)
    assert report.totals.sources["rolled_up"] == len(report.pieces) == 8
    assert report.totals.sources["live"] == 0
    live = _live(wc, report)
    assert [p.figures.as_dict() for p in report.pieces] == [f.as_dict() for f in live]
    live_total = sum(live[1:], live[0])
    assert report.totals.as_dict() == live_total.as_dict()
    assert report.totals.good_quantity > 0 and report.totals.unplanned_downtime > dt.timedelta(0)
    assert report.totals.planned_downtime > dt.timedelta(0)


def test_the_task_rolls_up_and_running_it_again_changes_nothing(three_days):
    press, _, _ = three_days
    roll_up_shifts.delay(days=5)
    rows = list(ShiftPerformance.objects.filter(work_center=press).order_by("starts_at").values_list("starts_at", "computed_at"))
    assert rows
    again = shift_performance_roll_up(days=5)
    assert again.written == 0 and again.removed == 0
    assert list(ShiftPerformance.objects.filter(work_center=press).order_by("starts_at").values_list("starts_at", "computed_at")) == rows


def test_a_range_with_edges_uses_roll_ups_inside_and_the_records_at_the_edges(three_days):
    press, start, end = three_days
    now = timezone.now()
    shift_performance_roll_up(now=now, days=5)
    wc = work_center_for_oee(press.pk)
    report = oee_report(work_center=wc, start=start + dt.timedelta(hours=7, minutes=3), end=end - dt.timedelta(hours=2), now=now)
    assert report.totals.sources["live"] == 2 and report.totals.sources["rolled_up"] == 6
    assert [p.figures.as_dict() for p in report.pieces] == [f.as_dict() for f in _live(wc, report)]


def test_a_late_downtime_makes_its_shift_stale_until_the_next_roll_up(three_days, floor):
    press, start, end = three_days
    first_run = timezone.now()
    shift_performance_roll_up(now=first_run, days=5)
    wc = work_center_for_oee(press.pk)
    before = oee_report(work_center=wc, start=start, end=end)
    # recorded now, for yesterday's afternoon
    late_start = end - dt.timedelta(hours=9, minutes=10)
    floor.downtime(press, floor.reasons.material, late_start, late_start + dt.timedelta(minutes=50), written=timezone.now())
    after = oee_report(work_center=wc, start=start, end=end)
    assert after.totals.sources["live"] == 1
    assert after.totals.unplanned_downtime > before.totals.unplanned_downtime
    assert [p.figures.as_dict() for p in after.pieces] == [f.as_dict() for f in _live(wc, after)]
    # the task's next run, a few minutes later, rolls that shift up again — and, when a shift of
    # today finished settling in those minutes, that one too for the first time
    next_run = timezone.now() + dt.timedelta(minutes=5)
    assert shift_performance_roll_up(now=next_run, days=5).written >= 1
    rolled = ShiftPerformance.objects.filter(work_center=press, computed_at=next_run)
    assert [r.starts_at <= late_start < r.ends_at for r in rolled].count(True) == 1
    newly_settled = [r for r in rolled if not r.starts_at <= late_start < r.ends_at]
    assert all(first_run - settle_time() < r.ends_at <= next_run - settle_time() for r in newly_settled)
    again = oee_report(work_center=wc, start=start, end=end, now=next_run)
    assert again.totals.sources["live"] == 0
    assert again.totals.as_dict() == after.totals.as_dict()


def test_a_reversal_after_the_roll_up_takes_the_report_out_of_its_shift(three_days, floor):
    press, start, end = three_days
    shift_performance_roll_up(days=5)
    wc = work_center_for_oee(press.pk)
    before = oee_report(work_center=wc, start=start, end=end)
    from orders.models import ProductionReport

    report = ProductionReport.objects.filter(operation__work_center=press, created_at__gte=start).order_by("created_at")[3]
    floor.reverse(report, timezone.now())
    after = oee_report(work_center=wc, start=start, end=end)
    assert after.totals.good_quantity == before.totals.good_quantity - report.quantity_good
    assert after.totals.sources["live"] == 1


def test_a_calendar_change_sends_every_shift_back_to_the_records_and_the_roll_up_follows(three_days):
    press, start, end = three_days
    shift_performance_roll_up(days=5)
    calendar = press.calendar
    calendar.shifts.filter(name="late").delete()
    calendar.save()  # the admin and the API save the calendar with its shifts
    wc = work_center_for_oee(press.pk)
    report = oee_report(work_center=wc, start=start, end=end)
    assert report.totals.sources["rolled_up"] == 0
    assert all(p.period.name != "late" for p in report.pieces)
    Calendar.objects.filter(pk=calendar.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    result = shift_performance_roll_up(days=5)
    assert result.written > 0 and result.removed > 0
    assert not ShiftPerformance.objects.filter(work_center=press, name="late", starts_at__gte=start).exists()
    rolled = oee_report(work_center=work_center_for_oee(press.pk), start=start, end=end)
    # without the late shift, the range ends inside the evening's off-shift period: that edge is live
    assert rolled.totals.sources["live"] == 1 and rolled.totals.sources["rolled_up"] == 5
    assert rolled.totals.as_dict() == report.totals.as_dict()


def test_a_month_answers_in_a_bounded_number_of_queries(press, floor, operator_client, django_assert_max_num_queries):
    _backdate_master_data(press)
    op = floor.operation(press, run_minutes="1")
    now = timezone.now()
    for day in range(31):
        floor.report(op, now - dt.timedelta(days=day, hours=5), 10)
    shift_performance_roll_up(days=33)
    params = {"work_center": press.pk, "start": (now - dt.timedelta(days=31)).isoformat(), "end": now.isoformat(), "group_by": "shift"}
    with django_assert_max_num_queries(14):
        response = operator_client.get("/api/v1/oee/", params)
    body = response.json()
    assert response.status_code == 200
    assert body["rolled_up_shifts"] >= 60 and body["live_ranges"] <= 3
    assert body["good_quantity"] == "310.000"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_real_worker_rolls_up_the_shifts(press, floor):
    _backdate_master_data(press)
    op = floor.operation(press, run_minutes="1")
    yesterday = timezone.now() - dt.timedelta(days=1)
    floor.report(op, yesterday, 12, 1, floor.reasons.solder)
    roll_up_shifts.delay(days=3)
    deadline = time.monotonic() + 60
    rows = []
    while time.monotonic() < deadline:
        rows = list(ShiftPerformance.objects.filter(work_center=press))
        if rows and sum(r.good_quantity for r in rows) == 12:
            break
        time.sleep(0.5)
    assert sum(r.good_quantity for r in rows) == 12
    assert sum(r.scrap_quantity for r in rows) == 1
    connection.close()
