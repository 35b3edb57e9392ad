"""Production reports through the API: every refusal is a 4xx problem that changes nothing,
retries with the same Idempotency-Key make one set of moves, scrap, over-report tolerance, and
reports against units passed on by the previous operation."""

import datetime as dt
from decimal import Decimal

import pytest

from inventory.models import (
    GenealogyLink,
    Lot,
    Reservation,
    SerialNumber,
    StockBalance,
    StockMove,
)
from inventory.selectors import ledger_discrepancies
from inventory.services import place_hold
from mes.models import Event
from orders.models import (
    OperationEvent,
    ProductionReport,
    ReportConsumption,
    WorkOrderMaterial,
    WorkOrderOperation,
)
from tests.orders.execution_setup import *  # noqa: F403
from tests.orders.execution_setup import report_body, start

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything a report may change."""
    return {
        "moves": StockMove.objects.count(),
        "balances": sorted(StockBalance.objects.values_list("item_id", "location_id", "lot_id", "quantity", "reserved")),
        "reservations": sorted(Reservation.objects.values_list("pk", "quantity_consumed", "status")),
        "serials": sorted(SerialNumber.objects.values_list("code", "status", "current_location_id")),
        "lots": sorted(Lot.objects.values_list("code", "status")),
        "links": GenealogyLink.objects.count(),
        "reports": ProductionReport.objects.count(),
        "operations": sorted(WorkOrderOperation.objects.values_list("pk", "status", "quantity_good", "quantity_scrap")),
        "materials": sorted(WorkOrderMaterial.objects.values_list("pk", "quantity_issued")),
        "events": Event.objects.filter(type__in=["production.reported", "stock.issued", "stock.produced"]).count(),
    }


@pytest.fixture
def assembly(plant, released, operator_client):
    """A released, running phone order of 2 at assembly."""
    order = released(plant.items.phone, 2)
    operation = order.operations.get(sequence=10)
    start(operator_client, operation)
    operation.refresh_from_db()
    return operation


def _post(client, operation, body, **headers):
    return client.post(f"/api/v1/operations/{operation.pk}/reports/", body, format="json", **headers)


def _board_serials(plant, *codes):
    from inventory.services import receive

    receive(item=plant.items.board, location=plant.locations.stores, quantity=Decimal(len(codes)), serial_codes=list(codes), user=plant.clerk)


def _full_kit(plant, unit=1):
    """Scans for ``unit`` phones: a board, a display, a battery and a housing."""
    return [
        {"item": plant.items.board.pk, "serial": f"BRD-{unit}"},
        {"item": plant.items.display.pk, "serial": f"DSP-{unit}", "quantity": "1"},
        {"item": plant.items.battery.pk, "lot": "BAT-L1", "quantity": "1"},
        {"item": plant.items.housing.pk, "lot": "HSG-L1", "quantity": "1"},
    ]


def _refused(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


REFUSALS = {
    # name: (body maker, status, code)
    "scrap_without_reason": (lambda p: report_body(0, scrap=1), 400, "scrap_reason_required"),
    "retired_scrap_reason": (lambda p: report_body(0, scrap=1, scrap_reason="OLD"), 400, "unknown_scrap_reason"),
    "unknown_scrap_reason": (lambda p: report_body(0, scrap=1, scrap_reason="NOPE"), 400, "unknown_scrap_reason"),
    "nothing": (lambda p: report_body(0), 400, "nothing_reported"),
    "component_of_another_operation": (lambda p: report_body(1, consumed=[{"item": p.items.box.pk, "quantity": "1"}], serials=["PHN-1"]), 409, "wrong_item"),
    "not_a_component": (lambda p: report_body(1, consumed=[{"item": p.items.pcb.pk, "lot": "PCB-L1", "quantity": "1"}], serials=["PHN-1"]), 409, "wrong_item"),
    "unknown_lot": (lambda p: report_body(1, consumed=[{"item": p.items.battery.pk, "lot": "BAT-NONE", "quantity": "1"}], serials=["PHN-1"]), 400, "lot_not_found"),
    "unknown_serial": (lambda p: report_body(1, consumed=[{"item": p.items.display.pk, "serial": "DSP-99"}], serials=["PHN-1"]), 400, "serial_not_found"),
    "lot_short": (lambda p: report_body(1, consumed=[{"item": p.items.battery.pk, "lot": "BAT-L1", "quantity": "11"}], serials=["PHN-1"]), 409, "insufficient_stock"),
    "serial_count": (lambda p: report_body(2, consumed=_full_kit(p), serials=["PHN-1"]), 400, "serial_count_mismatch"),
    "over_report": (lambda p: report_body(3, serials=["PHN-1", "PHN-2", "PHN-3"]), 409, "over_report"),
    "lot_for_a_serial_item": (lambda p: report_body(1, consumed=[{"item": p.items.display.pk, "lot": "X"}], serials=["PHN-1"]), 400, "serials_required"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refused_report_is_a_problem_and_changes_nothing(case, plant, assembly, operator_client):
    _board_serials(plant, "BRD-1", "BRD-2")
    make, status, code = REFUSALS[case]
    before = snapshot()
    _refused(_post(operator_client, assembly, make(plant)), status, code)
    assert snapshot() == before


def test_held_lots_and_serials_are_refused_and_nothing_changes(plant, assembly, operator_client, quality_client):
    _board_serials(plant, "BRD-1")
    place_hold(lot=Lot.objects.get(code="BAT-L1"), reason="Swollen cells found at incoming inspection", user=quality_client.user)
    before = snapshot()
    body = _refused(_post(operator_client, assembly, report_body(1, consumed=_full_kit(plant), serials=["PHN-1"])), 409, "lot_on_hold")
    assert "Swollen cells" in body["detail"]
    assert snapshot() == before
    place_hold(serial=SerialNumber.objects.get(code="DSP-2"), reason="Dead pixels", user=quality_client.user)
    before = snapshot()
    scans = [{"item": plant.items.display.pk, "serial": "DSP-2"}]
    _refused(_post(operator_client, assembly, report_body(1, consumed=scans, serials=["PHN-1"])), 409, "serial_on_hold")
    assert snapshot() == before


def test_an_expired_lot_is_refused(plant, assembly, operator_client):
    Lot.objects.filter(code="BAT-L1").update(expires_on=dt.date(2020, 1, 1))
    before = snapshot()
    scans = [{"item": plant.items.battery.pk, "lot": "BAT-L1", "quantity": "1"}]
    _refused(_post(operator_client, assembly, report_body(1, consumed=scans, serials=["PHN-1"])), 409, "lot_expired")
    assert snapshot() == before


def test_a_serial_number_that_exists_already_is_refused(plant, assembly, operator_client):
    _board_serials(plant, "BRD-1", "BRD-2")
    assert _post(operator_client, assembly, report_body(1, consumed=_full_kit(plant, 1), serials=["PHN-1"])).status_code == 201
    before = snapshot()
    _refused(_post(operator_client, assembly, report_body(1, consumed=_full_kit(plant, 2), serials=["PHN-1"])), 409, "serial_already_exists")
    assert snapshot() == before


def test_a_consumed_serial_out_of_stock_is_refused(plant, assembly, operator_client):
    _board_serials(plant, "BRD-1", "BRD-2")
    assert _post(operator_client, assembly, report_body(1, consumed=_full_kit(plant, 1), serials=["PHN-1"])).status_code == 201
    before = snapshot()
    again = [{"item": plant.items.display.pk, "serial": "DSP-1"}]  # already inside PHN-1
    _refused(_post(operator_client, assembly, report_body(1, consumed=again, serials=["PHN-2"])), 409, "serial_not_available")
    assert snapshot() == before


def test_backflush_without_stock_is_refused(plant, assembly, operator_client):
    from inventory.services import adjust

    adjust(item=plant.items.screw, location=plant.locations.line_assy, quantity=Decimal("-98"), reason="count", user=plant.clerk)
    # two screws left, four needed per phone (and the order's reservation was for eight)
    Reservation.objects.filter(item=plant.items.screw).update(status="closed")
    before = snapshot()
    body = _refused(_post(operator_client, assembly, report_body(1, serials=["PHN-1"])), 409, "insufficient_stock")
    assert body["shortages"][0]["item_code"] == "SCREW"
    assert snapshot() == before


def test_reports_go_to_running_operations_only(plant, released, operator_client):
    order = released(plant.items.phone, 2)
    assembly = order.operations.get(sequence=10)
    before = snapshot()
    body = _refused(_post(operator_client, assembly, report_body(1, serials=["PHN-1"])), 409, "operation_not_running")
    assert body["current_status"] == "ready"
    start(operator_client, assembly)
    assert operator_client.post(f"/api/v1/operations/{assembly.pk}/pause/", {"reason": "break"}, format="json").status_code == 200
    _refused(_post(operator_client, assembly, report_body(1, serials=["PHN-1"])), 409, "operation_not_running")
    assert snapshot()["moves"] == before["moves"]
    assert operator_client.post("/api/v1/operations/999999/reports/", report_body(1), format="json").status_code == 404


def test_a_retried_report_with_the_same_key_makes_one_set_of_moves(plant, assembly, operator_client):
    _board_serials(plant, "BRD-1")
    body = report_body(1, consumed=_full_kit(plant), serials=["PHN-1"])
    first = _post(operator_client, assembly, body, HTTP_IDEMPOTENCY_KEY="tablet-7-report-0001")
    assert first.status_code == 201, first.content
    after_first = snapshot()
    again = _post(operator_client, assembly, body, HTTP_IDEMPOTENCY_KEY="tablet-7-report-0001")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert snapshot() == after_first
    assert ProductionReport.objects.count() == 1
    assert StockMove.objects.filter(document_type="production_report").count() == len(first.json()["moves"]) == 6
    # the same key with another body is a client error, not a second report
    other = _post(operator_client, assembly, report_body(1, serials=["PHN-2"]), HTTP_IDEMPOTENCY_KEY="tablet-7-report-0001")
    assert other.status_code == 422
    assert snapshot() == after_first


def test_a_report_consumes_the_orders_reservations_and_counts(plant, assembly, operator_client):
    _board_serials(plant, "BRD-1")
    response = _post(operator_client, assembly, report_body(1, consumed=_full_kit(plant), serials=["PHN-1"], labor_minutes="7.25"))
    assert response.status_code == 201, response.content
    body = response.json()
    assembly.refresh_from_db()
    assert (assembly.quantity_good, assembly.quantity_scrap) == (Decimal("1"), Decimal("0"))
    battery = Reservation.objects.get(demand_id=assembly.work_order_id, item=plant.items.battery)
    assert battery.quantity_consumed == Decimal("1") and battery.status == "open"
    assert {m["reservation"] for m in body["moves"] if m["kind"] == "issue"} != {None}
    screws = ReportConsumption.objects.get(report_id=body["id"], item=plant.items.screw)
    assert screws.backflushed and screws.quantity == Decimal("4")
    assert body["labor_minutes"] == "7.25" and body["user"] == operator_client.user.pk
    assert ledger_discrepancies() == []


def test_scrap_with_a_reason_code_and_the_over_report_tolerance(plant, assembly, operator_client, settings):
    _board_serials(plant, "BRD-1", "BRD-2", "BRD-3")
    scrapped = _post(operator_client, assembly, report_body(0, scrap=1, scrap_reason="SOLDER", consumed=_full_kit(plant, 1)))
    assert scrapped.status_code == 201, scrapped.content
    assert scrapped.json()["scrap_reason"] == "SOLDER" and scrapped.json()["genealogy_links"] == []
    # screws are backflushed for scrapped units too
    assert ReportConsumption.objects.get(report_id=scrapped.json()["id"], item=plant.items.screw).quantity == Decimal("4")
    assert _post(operator_client, assembly, report_body(2, serials=["PHN-1", "PHN-2"])).status_code == 201
    _refused(_post(operator_client, assembly, report_body(1, serials=["PHN-3"])), 409, "over_report")
    settings.MES_OVER_REPORT_TOLERANCE_PERCENT = 50.0
    assert _post(operator_client, assembly, report_body(1, serials=["PHN-3"])).status_code == 201
    assembly.refresh_from_db()
    assert (assembly.quantity_good, assembly.quantity_scrap) == (Decimal("3"), Decimal("1"))


def test_later_operations_report_against_the_units_passed_on(plant, assembly, operator_client):
    assert _post(operator_client, assembly, report_body(1, serials=["PHN-1"])).status_code == 201
    test = WorkOrderOperation.objects.get(work_order_id=assembly.work_order_id, sequence=20)
    assert test.status == "ready"
    assert OperationEvent.objects.filter(operation=test, action="ready").exists()
    start(operator_client, test)
    before = snapshot()
    # one phone has been assembled so far; PHN-9 does not exist
    _refused(_post(operator_client, test, report_body(2, serials=["PHN-1", "PHN-2"])), 409, "over_report")
    _refused(_post(operator_client, test, report_body(1, serials=["PHN-9"])), 409, "serial_not_at_operation")
    assert snapshot() == before
    assert _post(operator_client, assembly, report_body(1, serials=["PHN-2"])).status_code == 201
    # a failed test scraps the unit by its serial
    _refused(_post(operator_client, test, report_body(0, scrap=1, scrap_reason="SOLDER")), 400, "serial_count_mismatch")
    scrapped = _post(operator_client, test, report_body(0, scrap=1, scrap_reason="SOLDER", scrapped_serials=["PHN-2"]))
    assert scrapped.status_code == 201, scrapped.content
    assert SerialNumber.objects.get(code="PHN-2").status == "scrapped"
    passed = _post(operator_client, test, report_body(1, serials=["PHN-1"]))
    assert passed.status_code == 201, passed.content
    _refused(_post(operator_client, test, report_body(1, serials=["PHN-1"])), 409, "over_report")
    assert ledger_discrepancies() == []


def test_consumed_serials_are_dealt_to_the_produced_serials_in_order(plant, released, operator_client):
    _board_serials(plant, "BRD-1", "BRD-2", "BRD-3")
    order = released(plant.items.phone, 3)
    assembly = order.operations.get(sequence=10)
    start(operator_client, assembly)
    scans = [{"item": plant.items.board.pk, "serial": f"BRD-{n}"} for n in (1, 2, 3)]
    scans += [{"item": plant.items.display.pk, "serial": "DSP-5", "produced_serial": "PHN-A"}]
    body = report_body(2, scrap=1, scrap_reason="SOLDER", consumed=scans, serials=["PHN-A", "PHN-B"])
    response = _post(operator_client, assembly, body)
    assert response.status_code == 201, response.content
    links = set(GenealogyLink.objects.values_list("consumed_serial__code", "produced_serial__code"))
    # the third board went into the scrapped unit: issued to the order, linked to nothing
    assert links == {("BRD-1", "PHN-A"), ("BRD-2", "PHN-B"), ("DSP-5", "PHN-A")}
    assert SerialNumber.objects.get(code="BRD-3").status == "consumed"
