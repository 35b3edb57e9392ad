"""The KPI endpoint: throughput, first-pass yield, scrap by reason, WIP by work center and
on-time delivery — on a hand-built set of orders, and on the demo plant after simulated shifts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.models import (
    OperationStatus,
    ProductionReport,
    WorkCenter,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderOperation,
)
from tests.factories import WorkOrderFactory

DAY = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
START, END = DAY + dt.timedelta(hours=6), DAY + dt.timedelta(hours=16)  # ten hours


def _order(status, quantity, due_at, operations, completed_at=None):
    """A work order with operations ``[(work center, sequence, status, good, scrap)]``."""
    order = WorkOrderFactory(quantity=Decimal(quantity), status=status, due_at=due_at)
    ops = [
        WorkOrderOperation.objects.create(
            work_order=order, sequence=seq, name=f"Op {seq}", work_center=wc, status=op_status,
            quantity_good=Decimal(good), quantity_scrap=Decimal(scrap), run_minutes_per_unit=Decimal(1),
        )
        for wc, seq, op_status, good, scrap in operations
    ]
    if completed_at is not None:
        WorkOrderEvent.objects.create(work_order=order, from_status="in_progress", to_status="completed", occurred_at=completed_at)
    return order, ops


@pytest.fixture
def plant(floor):
    """Two work centers; three orders completed in the range (one on time, one late, one without
    a due date), one completed before it, and open orders still in progress."""
    a = WorkCenter.objects.create(code="A-CELL", name="Cell A")
    b = WorkCenter.objects.create(code="B-CELL", name="Cell B")
    done = OperationStatus.DONE
    due = DAY + dt.timedelta(hours=12)
    _, (a1, b1) = _order("completed", 10, due, [(a, 10, done, 10, 1), (b, 20, done, 9, 1)], completed_at=due - dt.timedelta(hours=1))
    _order("closed", 5, due, [(a, 10, done, 5, 0), (b, 20, done, 5, 0)], completed_at=due + dt.timedelta(hours=2))
    _order("completed", 4, None, [(a, 10, done, 4, 0), (b, 20, done, 4, 0)], completed_at=DAY + dt.timedelta(hours=9))
    _order("completed", 7, due, [(a, 10, done, 7, 0), (b, 20, done, 7, 0)], completed_at=DAY - dt.timedelta(days=1))
    # open work: 50 − 20 − 2 = 28 at A (running) and 50 − 5 = 45 at B (pending); 10 at A (ready);
    # 8 at B of an order on hold; nothing of the done operation, nothing of a draft order
    _, (r1, r2) = _order("in_progress", 50, due, [(a, 10, OperationStatus.RUNNING, 20, 2), (b, 20, OperationStatus.PENDING, 5, 0)])
    _order("released", 10, None, [(a, 10, OperationStatus.READY, 0, 0)])
    _order("on_hold", 8, None, [(a, 10, done, 8, 0), (b, 20, OperationStatus.PAUSED, 0, 0)])
    _order("draft", 99, None, [(a, 10, OperationStatus.PENDING, 0, 0)])
    s = floor.reasons
    # reports in the range: A 30 good 3 scrap, B (last operations) 14 good 1 scrap; 2 solder, 2 cosmetic
    floor.report(a1, START + dt.timedelta(hours=1), 10, 1, s.solder)
    floor.report(r1, START + dt.timedelta(hours=2), 20, 2, s.cosmetic)
    floor.report(b1, START + dt.timedelta(hours=3), 9, 1, s.solder)
    floor.report(r2, START + dt.timedelta(hours=4), 5)
    wrong = floor.report(r1, START + dt.timedelta(hours=5), 6)
    floor.reverse(wrong, START + dt.timedelta(hours=5, minutes=3))
    floor.report(b1, START - dt.timedelta(minutes=1), 100)  # before the range
    return {"a": a, "b": b}


def test_kpis_on_hand_built_orders(plant, planner_client):
    response = planner_client.get("/api/v1/kpis/", {"start": START.isoformat(), "end": END.isoformat()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["hours"] == 10.0
    # throughput: good out of last operations (B, sequence 20) per hour: (9 + 5) / 10
    assert body["throughput"] == {"finished_quantity": "14.000", "per_hour": 1.4}
    # first-pass yield of the three orders completed in the range: (9 + 5 + 4) / (11 + 5 + 4)
    assert body["first_pass_yield"] == {"work_orders": 3, "started_quantity": "20.000", "finished_good_quantity": "18.000", "rate": 0.9}
    # scrap: 4 of 48 produced (10+1, 20+2, 9+1, 5)
    scrap = body["scrap"]
    assert (scrap["produced_quantity"], scrap["scrap_quantity"], scrap["rate"]) == ("48.000", "4.000", 0.0833)
    assert scrap["by_reason"] == [
        {"reason": "COSMETIC", "name": "Cosmetic defect", "quantity": "2.000", "rate": 0.0417, "share": 0.5},
        {"reason": "SOLDER", "name": "Solder defect", "quantity": "2.000", "rate": 0.0417, "share": 0.5},
    ]
    on_time = body["on_time_delivery"]
    assert (on_time["completed"], on_time["with_due_date"], on_time["on_time"], on_time["late"], on_time["rate"]) == (3, 2, 1, 1, 0.5)
    assert [row["number"] for row in on_time["late_orders"]] == [WorkOrder.objects.get(status="closed").number]
    centers = {row["code"]: row for row in body["work_centers"]}
    a, b = centers["A-CELL"], centers["B-CELL"]
    assert (a["good_quantity"], a["scrap_quantity"], a["reports"]) == ("30.000", "3.000", 2)
    assert (a["first_pass_yield"], a["scrap_rate"], a["throughput_per_hour"]) == (0.9091, 0.0909, 3.0)
    assert (b["good_quantity"], b["scrap_quantity"], b["first_pass_yield"]) == ("14.000", "1.000", 0.9333)
    assert (a["wip_quantity"], a["wip_operations"], a["wip_running"]) == ("38.000", 2, 1)
    assert (b["wip_quantity"], b["wip_operations"], b["wip_running"]) == ("53.000", 2, 1)


def test_bad_ranges_are_400_naming_the_field(operator_client):
    response = operator_client.get("/api/v1/kpis/", {"start": "2026-03-05", "end": "2026-03-04"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["end"]
    response = operator_client.get("/api/v1/kpis/", {"end": "2026-03-04"})
    assert [e["field"] for e in response.json()["errors"]] == ["start"]


def _expected_from_the_records(start, end):
    """The KPIs recomputed row by row, the long way."""
    last_sequence = {}
    for op in WorkOrderOperation.objects.all():
        last_sequence[op.work_order_id] = max(last_sequence.get(op.work_order_id, 0), op.sequence)
    good, scrap, by_reason = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    finished = Decimal(0)
    for report in ProductionReport.objects.select_related("operation", "scrap_reason"):
        if report.kind != "report" or ProductionReport.objects.filter(reverses=report).exists():
            continue
        if not (start <= report.created_at < end):
            continue
        code = report.operation.work_center.code
        good[code] += report.quantity_good
        scrap[code] += report.quantity_scrap
        if report.quantity_scrap:
            by_reason[report.scrap_reason.code] += report.quantity_scrap
        if report.operation.sequence == last_sequence[report.work_order_id]:
            finished += report.quantity_good
    wip = defaultdict(Decimal)
    for op in WorkOrderOperation.objects.select_related("work_order", "work_center"):
        if op.work_order.status in ("released", "in_progress", "on_hold") and op.status != "done":
            wip[op.work_center.code] += max(op.work_order.quantity - op.quantity_good - op.quantity_scrap, Decimal(0))
    return good, scrap, by_reason, finished, wip


@pytest.mark.django_db
def test_kpis_of_the_demo_plant_after_two_shifts(operator_client):
    call_command("load_demo_factory", "--no-users")
    call_command("simulate_shift", "--orders", "3", "--seed", "3")
    call_command("simulate_shift", "--orders", "3", "--seed", "4")
    now = timezone.now()
    start, end = now - dt.timedelta(hours=2), now + dt.timedelta(hours=1)
    response = operator_client.get("/api/v1/kpis/", {"start": start.isoformat(), "end": end.isoformat()})
    assert response.status_code == 200, response.content
    body = response.json()
    good, scrap, by_reason, finished, wip = _expected_from_the_records(start, end)
    assert sum(good.values()) > 0, "the simulated shifts reported production"
    centers = {row["code"]: row for row in body["work_centers"]}
    assert set(centers) == {"SMT", "ASSY", "TEST", "PACK"}
    for code, row in centers.items():
        assert Decimal(row["good_quantity"]) == good[code], code
        assert Decimal(row["scrap_quantity"]) == scrap[code], code
        assert Decimal(row["wip_quantity"]) == wip[code], code
        handled = good[code] + scrap[code]
        assert row["first_pass_yield"] == (round(float(good[code] / handled), 4) if handled else None)
    assert Decimal(body["throughput"]["finished_quantity"]) == finished
    assert {row["reason"]: Decimal(row["quantity"]) for row in body["scrap"]["by_reason"]} == dict(by_reason)
    total = sum(good.values()) + sum(scrap.values())
    assert Decimal(body["scrap"]["produced_quantity"]) == total
    # the OEE endpoint counts the same reports per work center
    for code, row in centers.items():
        oee = operator_client.get("/api/v1/oee/", {"work_center": row["work_center"], "start": start.isoformat(), "end": end.isoformat()}).json()
        assert (oee["good_quantity"], oee["scrap_quantity"]) == (row["good_quantity"], row["scrap_quantity"]), code
        if oee["planned_busy_minutes"]:
            assert oee["availability"] is not None
