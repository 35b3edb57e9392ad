"""The scheduling service through the real models: capacity, routing order, calendars, frozen
operations, release and due dates, publishing only over unchanged data, and the dispatch list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mes.models import Event
from orders import services
from orders.models import CalendarException, OperationStatus, ScheduleRun, Shift, WorkOrderOperation
from orders.selectors import dispatch_queryset
from orders.selectors.scheduling import priority_weight, schedule_build
from orders.services.scheduling import schedule_publish, schedule_run_claim, schedule_run_execute, schedule_run_start, schedule_solve
from orders.tasks import run_schedule
from tests.factories import CalendarFactory, WorkCenterFactory
from tests.orders.scheduling_setup import (
    MONDAY,
    assert_routing_order,
    minutes,
    overlaps_per_center,
    planned,
    release_order,
    schedule,
)

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def test_a_work_center_of_capacity_one_runs_one_operation_at_a_time(make_user):
    # Given five orders that all need the same press, and a second machine after it
    press, lathe = WorkCenterFactory(code="PRESS"), WorkCenterFactory(code="LATHE")
    orders = [release_order([(press, 5, 10), (lathe, 0, 7)], quantity="2") for _ in range(5)]
    # When a planner schedules
    run = schedule(user=make_user("planner"), horizon_start=MONDAY, objective="makespan")
    # Then the run is published and nothing overlaps on either machine
    assert run.status == "done", run.error
    assert run.solver_status == "optimal"
    operations = list(WorkOrderOperation.objects.filter(work_order__in=orders))
    assert all(op.planned_start and op.planned_end for op in operations)
    assert overlaps_per_center(operations) == {press.pk: 1, lathe.pk: 1}
    assert_routing_order(operations)
    # setup 5 + 10 per unit × 2 = 25 minutes on the press, 14 on the lathe
    assert {minutes(op.planned_end - op.planned_start) for op in operations} == {25, 14}
    assert min(op.planned_start for op in operations) == MONDAY
    assert run.makespan_minutes == 5 * 25 + 14
    assert run.published_operations == 10 and run.operations_count == 10 and run.work_orders_count == 5
    event = Event.objects.get(type="schedule.published")
    assert event.aggregate_id == str(run.pk) and event.payload["makespan_minutes"] == 139


def test_a_work_center_of_capacity_two_runs_two_operations_at_once():
    # Given three one-hour jobs on a work center with two parallel units
    cell = WorkCenterFactory(code="CELL", capacity=2)
    orders = [release_order([(cell, 0, 60)]) for _ in range(3)]
    # When scheduled for makespan
    run = schedule(horizon_start=MONDAY, objective="makespan")
    # Then two run side by side from the start and the third follows: two hours in all
    assert run.status == "done", run.error
    operations = list(WorkOrderOperation.objects.filter(work_order__in=orders))
    assert overlaps_per_center(operations) == {cell.pk: 2}
    assert sorted(op.planned_start for op in operations) == [MONDAY, MONDAY, MONDAY + H]
    assert run.makespan_minutes == 120


def test_operations_follow_their_routing_across_shared_work_centers():
    # Given orders that cross three machines in different orders (a small job shop)
    a, b, c = (WorkCenterFactory(code=code) for code in "ABC")
    routes = [[(a, 0, 3), (b, 0, 2), (c, 0, 2)], [(b, 0, 4), (a, 0, 1), (c, 0, 3)], [(c, 0, 2), (b, 0, 3), (a, 0, 4)]]
    orders = [release_order(route) for route in routes]
    run = schedule(horizon_start=MONDAY, objective="makespan")
    assert run.status == "done"
    operations = list(WorkOrderOperation.objects.filter(work_order__in=orders))
    assert_routing_order(operations)
    assert set(overlaps_per_center(operations).values()) == {1}
    assert run.lower_bound == run.makespan_minutes  # proven optimal on so small a shop


def _weekday_calendar(*, hours=(6, 14)):
    calendar = CalendarFactory(code="DAYS", timezone="UTC")
    for weekday in range(5):
        Shift.objects.create(calendar=calendar, weekday=weekday, start=dt.time(hours[0]), end=dt.time(hours[1]))
    return calendar


def test_no_work_is_planned_on_a_closed_weekend_or_holiday():
    # Given a day shift Monday to Friday (06–14 UTC), and the Monday after a Friday start closed
    calendar = _weekday_calendar()
    friday = MONDAY + dt.timedelta(days=4)
    CalendarException.objects.create(calendar=calendar, kind="closed", date=(friday + dt.timedelta(days=3)).date(), reason="Holiday")
    oven = WorkCenterFactory(code="OVEN", calendar=calendar, allow_split_across_breaks=True)
    mill = WorkCenterFactory(code="MILL", calendar=calendar, allow_split_across_breaks=False)
    # 10 h in the oven (may stop at the end of a shift), then two 5 h millings that may not
    long_job = release_order([(oven, 0, 600)])
    mills = [release_order([(mill, 0, 300)]) for _ in range(2)]
    # When scheduled from Friday midnight
    run = schedule(horizon_start=friday, objective="makespan")
    assert run.status == "done", run.error
    # Then the oven works Friday 06–14 and goes on Tuesday 06:00 (weekend and holiday skipped)
    oven_op = planned(long_job)[0]
    assert oven_op.planned_start == friday + 6 * H
    assert oven_op.planned_end == friday + dt.timedelta(days=4) + 8 * H
    # And each milling fits one shift: one on Friday, the other on Tuesday
    starts = sorted(planned(order)[0].planned_start for order in mills)
    assert starts[0].weekday() == 4 and starts[0] >= friday + 6 * H
    assert starts[1] == friday + dt.timedelta(days=4) + 6 * H
    for order in mills:
        op = planned(order)[0]
        assert op.planned_end - op.planned_start == 5 * H
        assert op.planned_start.weekday() < 5 and op.planned_start.date() == op.planned_end.date()
        assert 6 <= op.planned_start.hour and (op.planned_end.hour, op.planned_end.minute) <= (14, 0)


def test_a_running_operation_stays_where_it_is_and_the_rest_plans_around_it(make_user):
    # Given a running operation (started through the execution service) and a done one
    operator = make_user("operator")
    saw, weld = WorkCenterFactory(code="SAW"), WorkCenterFactory(code="WELD")
    busy = release_order([(saw, 15, 30)], quantity="2")
    first = planned(busy)[0]
    services.operation_start(operation=first, user=operator)
    first.refresh_from_db()
    half_done = release_order([(saw, 0, 10), (weld, 0, 20)])
    cut = planned(half_done)[0]
    services.operation_start(operation=cut, user=operator)
    services.operation_complete(operation=cut, user=operator)
    waiting = release_order([(saw, 0, 45)])
    # When scheduled from now
    run = schedule(objective="makespan")
    assert run.status == "done", run.error
    assert run.frozen_operations_count == 1
    # Then the running one keeps its actual start, with its run time left (no setup again)
    first.refresh_from_db()
    assert first.planned_start == first.actual_start
    assert first.planned_end == run.planned_from + 60 * M
    # And the waiting job uses the saw only after it
    saw_op = planned(waiting)[0]
    assert saw_op.planned_start >= first.planned_end
    # And the done operation is left alone; its successor is planned from the horizon start on
    cut.refresh_from_db()
    assert cut.status == OperationStatus.DONE and cut.planned_start is None
    assert planned(half_done)[1].planned_start == run.planned_from
    assert run.operations_count == 3


def test_release_times_and_due_dates_steer_the_plan():
    # Given a rush order released later than a routine one, both due soon
    press = WorkCenterFactory(code="PRESS")
    routine = release_order([(press, 0, 60)], priority=10, due_at=MONDAY + 10 * H)
    rush = release_order([(press, 0, 60)], priority=90, due_at=MONDAY + 3 * H, release_time=MONDAY + 2 * H)
    # When scheduled for weighted tardiness
    run = schedule(horizon_start=MONDAY)
    assert run.status == "done", run.error
    # Then the rush order waits for its release and is not late; the routine one is not late either
    assert planned(rush)[0].planned_start >= MONDAY + 2 * H
    assert planned(routine)[0].planned_end <= MONDAY + 10 * H
    assert run.late_orders == 0 and run.weighted_tardiness == 0 and run.objective_value == 0


def test_late_orders_are_listed_with_their_weighted_minutes():
    press = WorkCenterFactory(code="PRESS")
    orders = [release_order([(press, 0, 60)], priority=50, due_at=MONDAY + H, number=f"WO-LATE-{n}") for n in range(3)]
    run = schedule(horizon_start=MONDAY)
    assert run.status == "done"
    # one of three hour-long jobs due after an hour can be on time: the others are 60 and 120 min late
    assert run.late_orders == 2
    assert sorted(row["minutes_late"] for row in run.late_work_orders) == [60, 120]
    assert run.weighted_tardiness == priority_weight(50) * 180 == run.objective_value
    assert {row["number"] for row in run.late_work_orders} < {o.number for o in orders}
    assert run.heuristic_weighted_tardiness >= run.weighted_tardiness


def test_durations_are_setup_plus_run_per_unit_times_quantity_left_rounded_up():
    press = WorkCenterFactory(code="PRESS")
    order = release_order([(press, "2.5", "1.25")], quantity="3")  # 2.5 + 3.75 = 6.25 → 7 minutes
    schedule(horizon_start=MONDAY)
    op = planned(order)[0]
    assert op.planned_end - op.planned_start == 7 * M


def test_the_dispatch_list_follows_the_new_schedule():
    # Given two ready operations: the dispatch list puts the higher priority first
    press = WorkCenterFactory(code="PRESS")
    important = release_order([(press, 0, 60)], priority=90, due_at=MONDAY + 20 * H)
    urgent = release_order([(press, 0, 60)], priority=20, due_at=MONDAY + H)
    assert [op.work_order_id for op in dispatch_queryset(work_center=press)] == [important.pk, urgent.pk]
    # When the schedule puts the urgent one first (its due date would be missed otherwise)
    run = schedule(horizon_start=MONDAY)
    assert run.status == "done" and run.late_orders == 0
    # Then the dispatch list follows the plan
    assert [op.work_order_id for op in dispatch_queryset(work_center=press)] == [urgent.pk, important.pk]


def test_the_dispatching_rule_alone_is_a_run_objective():
    a, b = WorkCenterFactory(code="A"), WorkCenterFactory(code="B")
    for route in ([(a, 0, 5), (b, 0, 9)], [(b, 0, 4), (a, 0, 8)]):
        release_order(route)
    run = schedule(horizon_start=MONDAY, objective="heuristic")
    assert run.status == "done" and run.solver_status == "heuristic"
    assert run.makespan_minutes == run.heuristic_makespan_minutes
    assert run.lower_bound is None


def test_the_dispatching_rule_stands_in_when_the_solver_reports_no_schedule(monkeypatch):
    # Given a solver that answers "infeasible" although the dispatching rule placed everything
    from orders.scheduling import Solution
    from orders.services import scheduling

    def no_schedule(problem, **options):
        return Solution("infeasible", {}, {}, 0, 0, [], None, None, 0.01, 0, 0)

    monkeypatch.setattr(scheduling, "solve", no_schedule)
    press = WorkCenterFactory(code="PRESS")
    orders = [release_order([(press, 0, 60)], due_at=MONDAY + H) for _ in range(2)]
    # When a run is done
    run = schedule(horizon_start=MONDAY)
    # Then the rule's plan is published, said to be the rule's
    assert run.status == "done" and run.solver_status == "heuristic"
    assert run.makespan_minutes == 120 and run.late_orders == 1
    assert run.weighted_tardiness == priority_weight(50) * 60 == run.objective_value
    assert sorted(planned(order)[0].planned_start for order in orders) == [MONDAY, MONDAY + H]


def test_a_stale_run_is_refused_and_writes_nothing(make_user):
    # Given a run whose problem has been read and solved
    press = WorkCenterFactory(code="PRESS")
    orders = [release_order([(press, 0, 30)]) for _ in range(3)]
    run = schedule_run_start(horizon_start=MONDAY, time_limit_seconds=5, objective="makespan")
    run = schedule_run_claim(run_id=run.pk)
    schedule_input = schedule_build(horizon_start=MONDAY)
    solution = schedule_solve(schedule_input=schedule_input, objective="makespan", time_limit_seconds=5)
    # When an operator starts one of the operations before the plan is written
    services.operation_start(operation=planned(orders[1])[0], user=make_user("operator"))
    run = schedule_publish(run=run, schedule_input=schedule_input, solution=solution)
    # Then the run is stale, keeps its figures, and no planned time was written
    assert run.status == "stale" and "changed" in run.error
    assert run.makespan_minutes == 90 and run.finished_at is not None
    assert not WorkOrderOperation.objects.filter(planned_start__isnull=False).exists()
    assert not Event.objects.filter(type="schedule.published").exists()


def test_a_work_order_released_meanwhile_makes_the_run_stale():
    press = WorkCenterFactory(code="PRESS")
    release_order([(press, 0, 30)])
    run = schedule_run_claim(run_id=schedule_run_start(horizon_start=MONDAY).pk)
    schedule_input = schedule_build(horizon_start=MONDAY)
    solution = schedule_solve(schedule_input=schedule_input, objective="makespan", time_limit_seconds=5)
    release_order([(press, 0, 30)])
    assert schedule_publish(run=run, schedule_input=schedule_input, solution=solution).status == "stale"
    assert not WorkOrderOperation.objects.filter(planned_start__isnull=False).exists()


def test_a_calendar_changed_meanwhile_makes_the_run_stale():
    calendar = _weekday_calendar()
    press = WorkCenterFactory(code="PRESS", calendar=calendar)
    release_order([(press, 0, 30)])
    run = schedule_run_claim(run_id=schedule_run_start(horizon_start=MONDAY).pk)
    schedule_input = schedule_build(horizon_start=MONDAY)
    solution = schedule_solve(schedule_input=schedule_input, objective="makespan", time_limit_seconds=5)
    services.calendar_update(calendar=calendar, data={"exceptions": [{"kind": "closed", "date": MONDAY.date(), "reason": "Stocktaking"}]})
    assert schedule_publish(run=run, schedule_input=schedule_input, solution=solution).status == "stale"


def test_an_operation_too_long_for_any_shift_fails_the_run_with_a_reason():
    calendar = _weekday_calendar()
    press = WorkCenterFactory(code="PRESS", calendar=calendar, allow_split_across_breaks=False)
    order = release_order([(press, 0, 9 * 60)])
    run = schedule(horizon_start=MONDAY)
    assert run.status == "failed"
    assert str(planned(order)[0].pk) in run.error and "longer than any working window" in run.error
    assert planned(order)[0].planned_start is None


def test_the_job_is_idempotent_and_a_finished_run_is_left_alone():
    press = WorkCenterFactory(code="PRESS")
    release_order([(press, 0, 30)])
    run = schedule_run_start(horizon_start=MONDAY, time_limit_seconds=5)
    assert run_schedule.delay(run_id=run.pk).get() == "done"
    finished = ScheduleRun.objects.get(pk=run.pk).finished_at
    # A second delivery of the same job changes nothing
    assert run_schedule.delay(run_id=run.pk).get() == "done"
    assert ScheduleRun.objects.get(pk=run.pk).finished_at == finished
    assert Event.objects.filter(type="schedule.published").count() == 1
    assert schedule_run_execute(run_id=run.pk).status == "done"


def test_an_interrupted_run_starts_over():
    press = WorkCenterFactory(code="PRESS")
    release_order([(press, 0, 30)])
    run = schedule_run_start(horizon_start=MONDAY, time_limit_seconds=5)
    ScheduleRun.objects.filter(pk=run.pk).update(status="running")  # its worker died mid-run
    assert schedule_run_execute(run_id=run.pk).status == "done"


def test_nothing_to_schedule_is_a_done_run_with_nothing_published():
    run = schedule(horizon_start=MONDAY)
    assert run.status == "done" and run.published_operations == 0 and run.operations_count == 0


def test_the_run_records_its_inputs_and_fingerprint():
    press = WorkCenterFactory(code="PRESS")
    release_order([(press, 0, 30)], quantity="4")
    before = schedule_build(horizon_start=MONDAY).fingerprint
    assert schedule_build(horizon_start=MONDAY).fingerprint == before
    run = schedule(horizon_start=MONDAY, time_limit_seconds=3, objective="makespan")
    assert (run.objective, run.time_limit_seconds, run.horizon_start) == ("makespan", 3, MONDAY)
    assert run.input_fingerprint == before and run.planned_from == MONDAY
    assert run.started_at <= run.finished_at and run.wall_seconds is not None
    assert Decimal(run.plan[str(WorkOrderOperation.objects.get().pk)][1]) == 120
