"""Operator actions on operations: the state machine, its history, the work order moving with it,
and the dispatch list of a work center."""

import datetime as dt

import pytest
from django.utils import timezone

from mes.models import Event
from orders import services
from orders.models import (
    OPERATION_TRANSITIONS,
    OperationEvent,
    OperationStatus,
    WorkOrder,
)
from tests.factories import WorkOrderFactory
from tests.orders.execution_setup import *  # noqa: F403
from tests.orders.execution_setup import report_body, start

pytestmark = pytest.mark.django_db


def _act(client, operation, verb, **body):
    return client.post(f"/api/v1/operations/{operation.pk}/{verb}/", body, format="json")


def test_the_transitions_table_is_the_documented_one():
    S = OperationStatus
    assert OPERATION_TRANSITIONS == {
        S.PENDING: {S.READY},
        S.READY: {S.RUNNING},
        S.RUNNING: {S.PAUSED, S.DONE},
        S.PAUSED: {S.RUNNING, S.DONE},
        S.DONE: set(),
    }


def test_start_pause_resume_complete_with_history_and_events(plant, released, operator_client):
    order = released(plant.items.board, 1)
    smt = order.operations.get()
    started = start(operator_client, smt)
    assert started["status"] == "running" and started["actual_start"] is not None
    order.refresh_from_db()
    assert order.status == "in_progress"
    assert list(order.events.values_list("to_status", flat=True)) == ["released", "in_progress"]
    assert _act(operator_client, smt, "pause", reason="Nozzle change", recorded_at="2026-11-25T10:00:00Z").json()["status"] == "paused"
    assert _act(operator_client, smt, "resume").json()["status"] == "running"
    assert _act(operator_client, smt, "pause").status_code == 200
    done = _act(operator_client, smt, "complete", reason="lot finished")
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["actual_end"]
    history = list(OperationEvent.objects.filter(operation=smt).order_by("id").values_list("action", "from_status", "to_status", "reason", "user"))
    me = operator_client.user.pk
    assert history == [
        ("start", "ready", "running", "", me),
        ("pause", "running", "paused", "Nozzle change", me),
        ("resume", "paused", "running", "", me),
        ("pause", "running", "paused", "", me),
        ("complete", "paused", "done", "lot finished", me),
    ]
    assert OperationEvent.objects.get(operation=smt, action="pause", reason="Nozzle change").recorded_at == dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)
    types = list(Event.objects.filter(aggregate_type="work_order_operation", aggregate_id=str(smt.pk)).values_list("type", flat=True))
    assert types == ["operation.started", "operation.paused", "operation.resumed", "operation.paused", "operation.completed"]
    order.refresh_from_db()
    assert order.status == "completed"  # the only operation is done
    listed = operator_client.get(f"/api/v1/operations/{smt.pk}/history/").json()
    assert [row["action"] for row in listed["results"]] == ["start", "pause", "resume", "pause", "complete"]


@pytest.mark.parametrize(
    "verb, from_status",
    [("start", "running"), ("resume", "running"), ("pause", "ready"), ("complete", "ready"), ("start", "pending"), ("resume", "done")],
)
def test_a_wrong_action_is_409_and_changes_nothing(verb, from_status, plant, released, operator_client):
    order = released(plant.items.phone, 1)
    operation = order.operations.get(sequence=10)
    operation.status = from_status
    operation.save(update_fields=["status"])
    history = OperationEvent.objects.count()
    response = _act(operator_client, operation, verb)
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "invalid_transition"
    operation.refresh_from_db()
    assert operation.status == from_status and OperationEvent.objects.count() == history


def test_nothing_starts_on_an_order_on_hold_or_not_released(plant, released, operator_client, planner_client):
    order = released(plant.items.phone, 1)
    assembly = order.operations.get(sequence=10)
    services.work_order_hold(work_order=order, reason="customer call")
    refused = _act(operator_client, assembly, "start")
    assert refused.status_code == 409 and refused.json()["code"] == "work_order_not_runnable"
    services.work_order_resume(work_order=order)
    start(operator_client, assembly)
    assert _act(operator_client, assembly, "pause").status_code == 200
    services.work_order_hold(work_order=WorkOrder.objects.get(pk=order.pk), reason="quality stop")
    assert _act(operator_client, assembly, "resume").json()["code"] == "work_order_not_runnable"


def test_operations_complete_in_order_and_the_last_completes_the_order(plant, released, operator_client):
    order = released(plant.items.phone, 1)
    assembly, test, pack = order.operations.order_by("sequence")
    assert (test.status, pack.status) == ("pending", "pending")
    start(operator_client, assembly)
    response = operator_client.post(f"/api/v1/operations/{assembly.pk}/reports/", report_body(1, serials=["PHN-1"]), format="json")
    assert response.status_code == 201, response.content
    test.refresh_from_db()
    assert test.status == "ready"
    start(operator_client, test)
    early = _act(operator_client, test, "complete")
    assert early.status_code == 409 and early.json()["code"] == "previous_operation_not_done"
    assert _act(operator_client, assembly, "complete").status_code == 200
    assert _act(operator_client, test, "complete").status_code == 200
    pack.refresh_from_db()
    assert pack.status == "ready"  # completing the previous operation readies it even without output
    order.refresh_from_db()
    assert order.status == "in_progress"
    start(operator_client, pack)
    assert _act(operator_client, pack, "complete").status_code == 200
    order.refresh_from_db()
    assert order.status == "completed"
    event = Event.objects.get(type="work_order.completed")
    assert event.payload == {
        "work_order_id": order.pk,
        "number": order.number,
        "item_id": plant.items.phone.pk,
        "quantity": "0.000",
        "finished_lots": [],
        "finished_serials": [],
    }


def test_roles_operators_and_planners_act_everyone_reads(plant, released, api_client_for):
    order = released(plant.items.board, 1)
    smt = order.operations.get()
    for role in ("quality", "integration"):
        assert _act(api_client_for(role), smt, "start").status_code == 403
        assert api_client_for(role).get(f"/api/v1/operations/{smt.pk}/history/").status_code == 200
    assert _act(api_client_for("planner"), smt, "start").status_code == 200


# --- dispatch list ------------------------------------------------------------------------------


def test_the_dispatch_list_follows_the_schedule_then_priority_and_due_date(plant, released, operator_client):
    now = timezone.now()
    urgent = released(plant.items.board, 1, priority=90, due_at=now + dt.timedelta(days=5))
    early_due = released(plant.items.board, 1, priority=50, due_at=now + dt.timedelta(days=1))
    late_due = released(plant.items.board, 1, priority=50, due_at=now + dt.timedelta(days=3))
    scheduled_second = released(plant.items.board, 1, priority=10)
    scheduled_first = released(plant.items.board, 1, priority=10)
    draft = WorkOrderFactory(item=plant.items.board)  # not released: not dispatched
    for order, hours in ((scheduled_first, 1), (scheduled_second, 2)):
        order.operations.update(planned_start=now + dt.timedelta(hours=hours))
    held = released(plant.items.board, 1, priority=100)
    services.work_order_hold(work_order=held, reason="waiting for the customer")
    running = released(plant.items.board, 1, priority=0)
    start(operator_client, running.operations.get())

    rows = operator_client.get(f"/api/v1/work-centers/{plant.centers.smt.pk}/dispatch-list/").json()["results"]
    numbers = [row["work_order_number"] for row in rows]
    assert numbers == [o.number for o in (scheduled_first, scheduled_second, urgent, early_due, late_due, running)]
    assert draft.number not in numbers and held.number not in numbers
    first = rows[0]
    assert first["status"] == "ready" and first["item_code"] == "BOARD" and first["quantity_left"] == "1.000"
    assert first["quantity_available"] is None
    assert {m["item_code"]: (m["tracking"], m["quantity_to_issue"]) for m in first["materials"]} == {
        "PCB": ("lot", "1.000"),
        "CHIP": ("lot", "2.000"),
        "PASTE": ("lot", "0.004"),
    }


def test_later_operations_show_what_is_available_from_the_previous_one(plant, released, operator_client):
    order = released(plant.items.phone, 3)
    assembly = order.operations.get(sequence=10)
    start(operator_client, assembly)
    assert operator_client.post(f"/api/v1/operations/{assembly.pk}/reports/", report_body(2, serials=["P-1", "P-2"]), format="json").status_code == 201
    rows = operator_client.get(f"/api/v1/work-centers/{plant.centers.test.pk}/dispatch-list/").json()["results"]
    assert [(r["sequence"], r["quantity_left"], r["quantity_available"]) for r in rows] == [(20, "3.000", "2.000")]
    assembly_rows = operator_client.get(f"/api/v1/work-centers/{plant.centers.assy.pk}/dispatch-list/").json()["results"]
    materials = {m["item_code"]: m for m in assembly_rows[0]["materials"]}
    assert materials["SCREW"]["backflushed"] and materials["SCREW"]["quantity_issued"] == "8.000"
    assert materials["SCREW"]["quantity_to_issue"] == "4.000"
    assert operator_client.get("/api/v1/work-centers/999999/dispatch-list/").status_code == 404


def test_the_dispatch_list_reads_in_a_bounded_number_of_queries(plant, released, operator_client, django_assert_max_num_queries):
    url = f"/api/v1/work-centers/{plant.centers.smt.pk}/dispatch-list/"
    released(plant.items.board, 1)
    with django_assert_max_num_queries(12) as few:
        operator_client.get(url)
    for _ in range(12):
        released(plant.items.board, 2)
    with django_assert_max_num_queries(len(few)):
        rows = operator_client.get(url).json()["results"]
    assert len(rows) == 13 and all(len(row["materials"]) == 3 for row in rows)
