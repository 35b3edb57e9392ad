"""Reversing a wrong production report: a supervisor's new reversing report, nothing deleted."""

from decimal import Decimal

import pytest

from inventory.models import (
    GenealogyLink,
    Reservation,
    SerialNumber,
    StockBalance,
    StockMove,
)
from inventory.selectors import ledger_discrepancies
from mes.models import Event
from orders.models import (
    ProductionReport,
    ReportGenealogy,
    WorkOrderMaterial,
    WorkOrderOperation,
)
from tests.orders.execution_setup import *  # noqa: F403
from tests.orders.execution_setup import report_body, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def assembled(plant, released, operator_client):
    """A phone order of 2 with one phone assembled (board, display, battery, housing, screws)."""
    from inventory.services import receive

    receive(item=plant.items.board, location=plant.locations.stores, quantity=Decimal(2), serial_codes=["BRD-1", "BRD-2"], user=plant.clerk)
    order = released(plant.items.phone, 2)
    assembly = order.operations.get(sequence=10)
    start(operator_client, assembly)
    body = report_body(
        1,
        consumed=[
            {"item": plant.items.board.pk, "serial": "BRD-1"},
            {"item": plant.items.display.pk, "serial": "DSP-1"},
            {"item": plant.items.battery.pk, "lot": "BAT-L1", "quantity": "1"},
            {"item": plant.items.housing.pk, "lot": "HSG-L1", "quantity": "1"},
        ],
        serials=["PHN-1"],
    )
    response = operator_client.post(f"/api/v1/operations/{assembly.pk}/reports/", body, format="json")
    assert response.status_code == 201, response.content
    return ProductionReport.objects.get(pk=response.json()["id"])


def _stock():
    return sorted(StockBalance.objects.values_list("item_id", "location_id", "lot_id", "quantity"))


def test_a_supervisor_reverses_a_report_and_everything_is_restored(plant, assembled, supervisor_client):
    operation = assembled.operation
    moves_before = StockMove.objects.count()
    battery = Reservation.objects.get(demand_id=assembled.work_order_id, item=plant.items.battery)
    assert battery.quantity_consumed == 1

    response = supervisor_client.post(
        f"/api/v1/production-reports/{assembled.pk}/reverse/", {"reason": "Scanned the wrong order"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "reversal" and body["reverses"] == assembled.pk
    assert (body["quantity_good"], body["quantity_scrap"]) == ("-1.000", "0.000")
    assert {m["kind"] for m in body["moves"]} == {"reversal"}
    # nothing deleted: the original, its moves and its links stay, each move mirrored once
    original_moves = StockMove.objects.filter(document_type="production_report", document_id=str(assembled.pk)).exclude(kind="reversal")
    assert StockMove.objects.count() == moves_before + original_moves.count()
    assert all(move.reversed_by is not None for move in original_moves)
    assert ProductionReport.objects.filter(pk=assembled.pk).exists()
    assert GenealogyLink.objects.filter(report_link__report=assembled).count() == 4
    assert not ReportGenealogy.objects.filter(report=assembled, reversed_at__isnull=True).exists()
    assert all(link["reversed"] for link in supervisor_client.get(f"/api/v1/production-reports/{assembled.pk}/").json()["genealogy_links"])
    # counters, serials and stock back to where they were
    operation.refresh_from_db()
    assert (operation.quantity_good, operation.quantity_scrap) == (0, 0)
    assert SerialNumber.objects.get(code="DSP-1").current_location == plant.locations.stores
    assert SerialNumber.objects.get(code="BRD-1").status == "available"
    assert SerialNumber.objects.get(code="PHN-1").current_location is None
    assert StockBalance.objects.get(item=plant.items.battery, lot__code="BAT-L1").quantity == Decimal("10")
    assert StockBalance.objects.get(item=plant.items.screw).quantity == Decimal("100")
    assert set(WorkOrderMaterial.objects.filter(work_order_id=assembled.work_order_id).values_list("quantity_issued", flat=True)) == {0}
    # the returned components are promised to the order again
    reserved = sum(
        r.remaining for r in Reservation.objects.filter(demand_id=assembled.work_order_id, item=plant.items.battery, status="open")
    )
    assert reserved == Decimal("2")
    event = Event.objects.get(type="production.reversed")
    assert event.payload["reverses"] == assembled.pk and event.actor == supervisor_client.user
    assert ledger_discrepancies() == []


def test_only_a_supervisor_reverses_and_only_once(plant, assembled, operator_client, supervisor_client):
    url = f"/api/v1/production-reports/{assembled.pk}/reverse/"
    assert operator_client.post(url, {"reason": "oops"}, format="json").status_code == 403
    assert supervisor_client.post(url, {}, format="json").status_code == 400  # a reason is required
    assert supervisor_client.post(url, {"reason": "wrong order"}, format="json").status_code == 201
    moves = StockMove.objects.count()
    again = supervisor_client.post(url, {"reason": "again"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_reversed"
    reversal = ProductionReport.objects.get(reverses=assembled)
    of_reversal = supervisor_client.post(f"/api/v1/production-reports/{reversal.pk}/reverse/", {"reason": "undo"}, format="json")
    assert of_reversal.status_code == 409 and of_reversal.json()["code"] == "not_reversible"
    assert StockMove.objects.count() == moves


def test_output_the_next_operation_used_cannot_be_reversed_first(plant, assembled, operator_client, supervisor_client):
    test = WorkOrderOperation.objects.get(work_order_id=assembled.work_order_id, sequence=20)
    start(operator_client, test)
    passed = operator_client.post(f"/api/v1/operations/{test.pk}/reports/", report_body(1, serials=["PHN-1"]), format="json")
    assert passed.status_code == 201
    refused = supervisor_client.post(f"/api/v1/production-reports/{assembled.pk}/reverse/", {"reason": "x"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "output_used_downstream"
    # reversing in the right order works
    later = supervisor_client.post(f"/api/v1/production-reports/{passed.json()['id']}/reverse/", {"reason": "retest"}, format="json")
    assert later.status_code == 201, later.content
    assert supervisor_client.post(f"/api/v1/production-reports/{assembled.pk}/reverse/", {"reason": "x"}, format="json").status_code == 201
    assert ledger_discrepancies() == []


def test_reports_are_listed_with_filters(plant, assembled, quality_client):
    response = quality_client.get("/api/v1/production-reports/", {"work_order": assembled.work_order_id, "kind": "report"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [assembled.pk]
    assert rows[0]["consumed"] and rows[0]["moves"] and rows[0]["genealogy_links"]
    assert quality_client.get("/api/v1/production-reports/", {"kind": "reversal"}).json()["count"] == 0
