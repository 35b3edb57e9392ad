"""Tablets reporting at the same moment, on PostgreSQL with real threads: the operation row
serialises them, so an order is never over-reported, no stock is lost, nothing deadlocks."""

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inventory.models import SerialNumber, StockMove
from inventory.selectors import ledger_discrepancies
from inventory.services import receive
from orders.models import ProductionReport, WorkOrderOperation
from tests.concurrency import race
from tests.orders.execution_setup import *  # noqa: F403
from tests.orders.execution_setup import report_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _tablet(user) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _board_report(good, serials, *, pcb="PCB-L1"):
    return report_body(
        good,
        consumed=[{"item": "PCB", "lot": pcb, "quantity": str(good)}, {"item": "CHIP", "lot": "CHIP-L1", "quantity": str(2 * good)}],
        serials=serials,
    )


def _with_ids(body, plant):
    ids = {"PCB": plant.items.pcb.pk, "CHIP": plant.items.chip.pk}
    body["consumed"] = [{**row, "item": ids[row["item"]]} for row in body["consumed"]]
    return body


def _running_board_order(plant, released, make_user, quantity):
    order = released(plant.items.board, quantity)
    operation = order.operations.get()
    from orders.services import operation_start

    operation_start(operation=operation, user=make_user("operator"))
    return operation


def test_two_tablets_reporting_on_one_operation_never_exceed_the_order(plant, released, make_user):
    operation = _running_board_order(plant, released, make_user, 3)
    tablets = [_tablet(make_user("operator")) for _ in range(2)]
    url = f"/api/v1/operations/{operation.pk}/reports/"
    bodies = [_with_ids(_board_report(2, [f"BRD-{t}-1", f"BRD-{t}-2"]), plant) for t in range(2)]
    outcomes = race(*[lambda t=t: tablets[t].post(url, bodies[t], format="json") for t in range(2)])
    statuses = sorted(o.status_code for o in outcomes)
    assert statuses == [201, 409], [getattr(o, "content", o) for o in outcomes]
    refused = next(o for o in outcomes if o.status_code == 409)
    assert refused.json()["code"] == "over_report"
    operation.refresh_from_db()
    assert operation.quantity_good == Decimal("2")
    assert ProductionReport.objects.filter(operation=operation).count() == 1
    assert SerialNumber.objects.filter(item=plant.items.board).count() == 2
    assert StockMove.objects.filter(work_order_id=operation.work_order_id).count() == 4  # 2 issues + 2 boards
    assert ledger_discrepancies() == []


def test_many_tablets_one_unit_each_fill_the_order_exactly(plant, released, make_user):
    operation = _running_board_order(plant, released, make_user, 4)
    tablets = [_tablet(make_user("operator")) for _ in range(8)]
    url = f"/api/v1/operations/{operation.pk}/reports/"
    calls = [
        lambda t=t: tablets[t].post(url, _with_ids(_board_report(1, [f"BRD-{t}"]), plant), format="json") for t in range(8)
    ]
    outcomes = race(*calls)
    codes = sorted(o.status_code for o in outcomes)
    assert codes == [201] * 4 + [409] * 4, [getattr(o, "content", o) for o in outcomes]
    assert {o.json()["code"] for o in outcomes if o.status_code == 409} == {"over_report"}
    operation.refresh_from_db()
    assert operation.quantity_good == Decimal("4")
    assert SerialNumber.objects.filter(item=plant.items.board).count() == 4
    assert ledger_discrepancies() == []


def test_reports_on_different_orders_sharing_lots_do_not_deadlock_or_lose_stock(plant, released, make_user):
    receive(item=plant.items.pcb, location=plant.locations.line_smt, quantity=Decimal("10"), lot_code="PCB-L2", user=plant.clerk)
    operations = [_running_board_order(plant, released, make_user, 3) for _ in range(3)]
    tablets = [_tablet(make_user("operator")) for _ in range(6)]
    calls = []
    for t in range(6):
        operation = operations[t % 3]
        body = _with_ids(_board_report(1, [f"BRD-{t}"], pcb="PCB-L1" if t % 2 else "PCB-L2"), plant)
        calls.append(lambda t=t, operation=operation, body=body: tablets[t].post(f"/api/v1/operations/{operation.pk}/reports/", body, format="json"))
    outcomes = race(*calls)
    assert [o.status_code for o in outcomes] == [201] * 6, [getattr(o, "content", o) for o in outcomes]
    assert sum(WorkOrderOperation.objects.filter(pk__in=[o.pk for o in operations]).values_list("quantity_good", flat=True)) == 6
    assert StockMove.objects.filter(kind="issue", item=plant.items.chip).count() == 6
    assert ledger_discrepancies() == []


def test_the_same_retried_report_sent_twice_at_once_lands_once(plant, released, make_user):
    operation = _running_board_order(plant, released, make_user, 3)
    tablet = _tablet(make_user("operator"))
    url = f"/api/v1/operations/{operation.pk}/reports/"
    body = _with_ids(_board_report(1, ["BRD-X"]), plant)
    outcomes = race(*[lambda: tablet.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")] * 2)
    assert [o.status_code for o in outcomes] == [201, 201], [getattr(o, "content", o) for o in outcomes]
    assert outcomes[0].json() == outcomes[1].json()
    assert ProductionReport.objects.filter(operation=operation).count() == 1
    assert StockMove.objects.filter(work_order_id=operation.work_order_id).count() == 3
