"""Job-shop benchmark instances through the real models: the loader, the scheduling job and the
API. ft06 (Fisher & Thompson 6 × 6) has the proven optimal makespan 55."""

from __future__ import annotations

import time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from orders.models import ScheduleRun, WorkCenter, WorkOrder, WorkOrderOperation
from orders.scheduling import parse_orlibrary
from tests.orders.scheduling_setup import JOBSHOP_DIR, assert_routing_order, overlaps_per_center

FT06 = JOBSHOP_DIR / "ft06.txt"
FT06_OPTIMUM = 55
URL = "/api/v1/schedule-runs/"


def _load(prefix="FT06-"):
    out = StringIO()
    call_command("load_jobshop", str(FT06), prefix=prefix, stdout=out)
    return out.getvalue()


def _assert_ft06_plan(run_body):
    assert run_body["status"] == "done", run_body["error"]
    assert run_body["makespan_minutes"] == FT06_OPTIMUM
    assert run_body["solver_status"] == "optimal"
    # the bound is on the objective's primary criterion: the makespan, or the (zero) tardiness
    assert run_body["lower_bound"] == run_body["objective_value"]
    operations = list(WorkOrderOperation.objects.filter(work_order__number__startswith="FT06-"))
    assert len(operations) == 36
    assert set(overlaps_per_center(operations).values()) == {1}
    assert_routing_order(operations)
    start = min(op.planned_start for op in operations)
    assert max((op.planned_end - start).total_seconds() for op in operations) == FT06_OPTIMUM * 60


@pytest.mark.django_db
def test_the_loader_creates_machines_items_routings_and_released_orders():
    message = _load()
    instance = parse_orlibrary(FT06.read_text())
    assert "6 work centers, 6 released work orders (36 operations)" in message
    centers = {wc.code: wc for wc in WorkCenter.objects.filter(code__startswith="FT06-")}
    assert sorted(centers) == [f"FT06-M{m:03d}" for m in range(6)]
    assert all(wc.capacity == 1 and wc.calendar_id is None for wc in centers.values())
    orders = list(WorkOrder.objects.filter(number__startswith="FT06-").order_by("number"))
    assert [o.status for o in orders] == ["released"] * 6 and all(o.quantity == 1 for o in orders)
    for order, route in zip(orders, instance.operations, strict=True):
        ops = list(order.operations.order_by("sequence").select_related("work_center"))
        assert [(op.work_center.code, op.run_minutes_per_unit, op.setup_minutes) for op in ops] == [
            (f"FT06-M{machine:03d}", Decimal(duration), 0) for machine, duration in route
        ]


@pytest.mark.django_db
def test_the_loader_refuses_a_prefix_in_use_and_files_it_cannot_read(tmp_path):
    _load()
    with pytest.raises(CommandError, match="exist already"):
        _load()
    bad = tmp_path / "bad.txt"
    bad.write_text("2 2\n0 5 1\n")
    with pytest.raises(CommandError, match="not an OR-Library"):
        call_command("load_jobshop", str(bad), stdout=StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_jobshop", str(tmp_path / "missing.txt"), stdout=StringIO())
    assert WorkOrder.objects.count() == 6


@pytest.mark.django_db
def test_ft06_through_the_loader_the_job_and_the_api_reaches_its_optimum_55(planner_client, django_capture_on_commit_callbacks):
    _load()
    with django_capture_on_commit_callbacks(execute=True):
        response = planner_client.post(URL, {"objective": "makespan", "time_limit_seconds": 20}, format="json")
    assert response.status_code == 202
    body = planner_client.get(response["Location"]).json()
    _assert_ft06_plan(body)
    assert body["lower_bound"] == FT06_OPTIMUM


@pytest.mark.django_db
def test_ft06_under_the_default_objective_also_finds_55(planner_client, django_capture_on_commit_callbacks):
    # Without due dates weighted tardiness is zero for every schedule: the makespan decides
    _load()
    with django_capture_on_commit_callbacks(execute=True):
        response = planner_client.post(URL, {"time_limit_seconds": 20}, format="json")
    body = planner_client.get(response["Location"]).json()
    assert body["objective"] == "weighted_tardiness" and body["weighted_tardiness"] == 0
    _assert_ft06_plan(body)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_ft06_through_the_real_worker_reaches_55(api_client_for):
    # Given ft06 loaded and committed (the worker reads committed rows)
    _load()
    client = api_client_for("planner")
    # When a planner starts a run
    response = client.post(URL, {"objective": "makespan", "time_limit_seconds": 20}, format="json")
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    # Then the worker finishes it
    deadline = time.monotonic() + 120
    run = ScheduleRun.objects.get(pk=run_id)
    while run.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        run = ScheduleRun.objects.get(pk=run_id)
    _assert_ft06_plan(client.get(f"{URL}{run_id}/").json())
    connection.close()
