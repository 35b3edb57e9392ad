"""Publishing a schedule against concurrent shop-floor work, on PostgreSQL with real threads."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from orders import services
from orders.models import ScheduleRun, WorkOrderOperation
from orders.selectors.scheduling import schedule_build
from orders.services.scheduling import schedule_publish, schedule_run_claim, schedule_solve
from tests.factories import WorkCenterFactory
from tests.orders.scheduling_setup import MONDAY, planned, release_order


def _solved_run():
    press = WorkCenterFactory(code="PRESS")
    orders = [release_order([(press, 0, 30)]) for _ in range(3)]
    run = ScheduleRun.objects.create(horizon_start=MONDAY, objective="makespan", time_limit_seconds=5)
    run = schedule_run_claim(run_id=run.pk)
    schedule_input = schedule_build(horizon_start=MONDAY)
    solution = schedule_solve(schedule_input=schedule_input, objective="makespan", time_limit_seconds=5)
    return run, schedule_input, solution, orders


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_operation_started_while_the_plan_is_written_makes_the_run_stale(make_user):
    # Given a solved run, and an operator whose start of an operation is not yet committed
    operator = make_user("operator")
    run, schedule_input, solution, orders = _solved_run()
    in_transaction = threading.Event()
    errors: list[BaseException] = []

    def start_operation():
        try:
            with transaction.atomic():
                services.operation_start(operation=planned(orders[0])[0], user=operator)
                in_transaction.set()
                time.sleep(1.0)  # the publish below must wait for this commit
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            in_transaction.set()
        finally:
            connection.close()

    thread = threading.Thread(target=start_operation)
    thread.start()
    assert in_transaction.wait(30)
    # When the plan is published meanwhile
    run = schedule_publish(run=run, schedule_input=schedule_input, solution=solution)
    thread.join(30)
    # Then publishing waited for the operator's locks, saw the change and wrote nothing
    assert errors == []
    assert run.status == "stale"
    assert not WorkOrderOperation.objects.filter(planned_start__isnull=False).exists()
    assert WorkOrderOperation.objects.filter(status="running").count() == 1
    connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_operator_waits_for_a_plan_being_written_and_then_starts(make_user):
    # Given a plan being written (its transaction holds the orders' and operations' locks)
    operator = make_user("operator")
    run, schedule_input, solution, orders = _solved_run()
    outcome: dict[str, object] = {}
    publishing = threading.Event()

    def start_operation():
        try:
            assert publishing.wait(30)
            services.operation_start(operation=planned(orders[0])[0], user=operator)
            outcome["planned_start_seen"] = WorkOrderOperation.objects.get(pk=planned(orders[0])[0].pk).planned_start
        except BaseException as exc:  # pragma: no cover - reported below
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=start_operation)
    thread.start()
    with transaction.atomic():
        published = schedule_publish(run=run, schedule_input=schedule_input, solution=solution)
        publishing.set()
        time.sleep(0.5)  # the operator's start blocks on the order's lock meanwhile
    thread.join(30)
    # Then the plan was published whole, and the operator's start came after it
    assert "error" not in outcome, outcome.get("error")
    assert published.status == "done"
    assert outcome["planned_start_seen"] is not None
    assert WorkOrderOperation.objects.filter(planned_start__isnull=False).count() == 3
    connection.close()
