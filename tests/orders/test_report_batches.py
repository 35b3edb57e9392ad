"""A production report issues its components in one batch: several lines of one lot draw on its
stock together, the refusal for a wrong item names it by code, and the API request reads its
token once."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Lot, Reservation, StockBalance, StockMove
from inventory.selectors import ledger_discrepancies
from tests.orders.execution_setup import *  # noqa: F403
from tests.orders.execution_setup import report_body, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def assembly(plant, released, operator_client):
    order = released(plant.items.phone, 2)
    operation = order.operations.get(sequence=10)
    start(operator_client, operation)
    operation.refresh_from_db()
    return operation


def _post(client, operation, body, **headers):
    return client.post(f"/api/v1/operations/{operation.pk}/reports/", body, format="json", **headers)


def _battery(quantity):
    return {"item": None, "lot": "BAT-L1", "quantity": str(quantity)}


def test_two_lines_of_one_lot_are_issued_together(plant, assembly, operator_client):
    lines = [{**_battery(1), "item": plant.items.battery.pk}, {**_battery(2), "item": plant.items.battery.pk}]
    response = _post(operator_client, assembly, report_body(1, consumed=lines, serials=["PHN-1"]))
    assert response.status_code == 201, response.content
    lot = Lot.objects.get(code="BAT-L1")
    moves = StockMove.objects.filter(kind="issue", lot=lot).order_by("pk")
    assert [m.quantity for m in moves] == [Decimal(1), Decimal(2)]
    assert StockBalance.objects.get(lot=lot).quantity == Decimal(7)
    reservation = Reservation.objects.get(item=plant.items.battery, demand_id=assembly.work_order_id)
    assert (reservation.quantity_consumed, reservation.status) == (Decimal(2), "closed")
    assert ledger_discrepancies() == []


def test_lines_of_one_lot_beyond_its_stock_together_are_refused(plant, assembly, operator_client):
    lines = [{**_battery(6), "item": plant.items.battery.pk}, {**_battery(5), "item": plant.items.battery.pk}]
    moves = StockMove.objects.count()
    response = _post(operator_client, assembly, report_body(1, consumed=lines, serials=["PHN-1"]))
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "insufficient_stock"
    assert StockMove.objects.count() == moves
    assert StockBalance.objects.get(lot__code="BAT-L1").quantity == Decimal(10)


def test_a_wrong_item_is_named_by_its_code(plant, assembly, operator_client):
    scans = [{"item": plant.items.pcb.pk, "lot": "PCB-L1", "quantity": "1"}]
    body = _post(operator_client, assembly, report_body(1, consumed=scans, serials=["PHN-1"])).json()
    assert body["code"] == "wrong_item"
    assert body["detail"].startswith("PCB is not a component of ")
    unknown = _post(operator_client, assembly, report_body(1, consumed=[{"item": 987654, "quantity": "1"}], serials=["PHN-1"])).json()
    assert (unknown["code"], unknown["detail"].split(" is not")[0]) == ("wrong_item", "Item 987654")


def test_a_report_with_an_idempotency_key_reads_its_token_once(plant, assembly, operator_client):
    scans = [{"item": plant.items.battery.pk, "lot": "BAT-L1", "quantity": "1"}]
    with CaptureQueriesContext(connection) as queries:
        response = _post(operator_client, assembly, report_body(1, consumed=scans, serials=["PHN-1"]), HTTP_IDEMPOTENCY_KEY="once-1")
    assert response.status_code == 201, response.content
    assert sum('"authtoken_token"' in q["sql"] for q in queries.captured_queries) == 1


def test_a_report_locks_its_product_and_component_items_in_one_statement(plant, assembly, operator_client):
    scans = [{"item": plant.items.battery.pk, "lot": "BAT-L1", "quantity": "1"}]
    with CaptureQueriesContext(connection) as queries:
        response = _post(operator_client, assembly, report_body(1, consumed=scans, serials=["PHN-1"]))
    assert response.status_code == 201, response.content
    item_locks = [q["sql"] for q in queries.captured_queries if "FROM inventory_item i JOIN inventory_unitofmeasure u" in q["sql"]]
    assert len(item_locks) == 1
    assert str(plant.items.battery.pk) in item_locks[0] and str(assembly.work_order.item_id) in item_locks[0]
