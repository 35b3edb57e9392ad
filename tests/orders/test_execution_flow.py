"""The whole shop-floor flow through the API: a main-board order and a phone order, from release
to finished goods, with the genealogy from a finished phone back to its component lots."""

from decimal import Decimal

import pytest

from inventory.models import SerialNumber, StockBalance
from inventory.selectors import ledger_discrepancies
from mes.models import Event
from orders.models import OperationEvent, ProductionReport, WorkOrder, WorkOrderMaterial
from tests.factories import WorkOrderFactory
from tests.orders.execution_setup import *  # noqa: F403
from tests.orders.execution_setup import report_body, start

pytestmark = pytest.mark.django_db


def _release(planner_client, item, quantity) -> WorkOrder:
    order = WorkOrderFactory(item=item, quantity=Decimal(quantity))
    response = planner_client.post(f"/api/v1/work-orders/{order.pk}/release/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["shortages"] == []
    return WorkOrder.objects.get(pk=order.pk)


def _complete(client, operation):
    response = client.post(f"/api/v1/operations/{operation.pk}/complete/", {"recorded_at": "2026-11-25T15:00:00+01:00"}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _nodes(tree):
    """(code, type) → node, for every node of a trace tree."""
    out = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        out[node["code"]] = node
        stack.extend(node["children"])
    return out


def test_a_phone_order_runs_from_release_to_finished_goods_with_its_genealogy(plant, planner_client, operator_client):
    items, locations = plant.items, plant.locations

    # The main boards: one SMT operation that consumes three lots and makes serial-numbered boards.
    boards = _release(planner_client, items.board, "2")
    smt = boards.operations.get()
    assert smt.status == "ready"
    dispatch = operator_client.get(f"/api/v1/work-centers/{plant.centers.smt.pk}/dispatch-list/").json()["results"]
    assert [row["operation"] for row in dispatch] == [smt.pk]
    assert {(m["item_code"], m["tracking"], m["quantity_to_issue"]) for m in dispatch[0]["materials"]} == {
        ("PCB", "lot", "2.000"),
        ("CHIP", "lot", "4.000"),
        ("PASTE", "lot", "0.008"),
    }
    start(operator_client, smt)
    boards.refresh_from_db()
    assert boards.status == "in_progress"
    response = operator_client.post(
        f"/api/v1/operations/{smt.pk}/reports/",
        report_body(
            2,
            consumed=[
                {"item": items.pcb.pk, "lot": "PCB-L1", "quantity": "2"},
                {"item": items.chip.pk, "lot": "CHIP-L1", "quantity": "4"},
                {"item": items.paste.pk, "lot": "PASTE-L1", "quantity": "0.008"},
            ],
            serials=["BRD-1", "BRD-2"],
            labor_minutes="12.5",
            recorded_at="2026-11-25T09:00:00+01:00",
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    report = response.json()
    assert (report["kind"], report["quantity_good"], report["quantity_scrap"]) == ("report", "2.000", "0.000")
    assert {m["kind"] for m in report["moves"]} == {"issue", "production"} and len(report["moves"]) == 5
    # each lot shared over the two boards
    assert len(report["genealogy_links"]) == 6
    assert {p["serial_code"] for p in report["produced"]} == {"BRD-1", "BRD-2"}
    assert all(p["location"] == locations.fg.pk for p in report["produced"])  # single operation: finished goods
    assert WorkOrderMaterial.objects.get(work_order=boards, item=items.chip).quantity_issued == Decimal("4")
    _complete(operator_client, smt)
    boards.refresh_from_db()
    assert boards.status == "completed"
    completed = Event.objects.filter(type="work_order.completed", aggregate_id=str(boards.pk)).get()
    assert completed.payload["quantity"] == "2.000"
    assert sorted(s["code"] for s in completed.payload["finished_serials"]) == ["BRD-1", "BRD-2"]

    # The phones: assemble (boards, displays, battery and housing lots, screws backflushed),
    # test, pack (a box backflushed).
    phones = _release(planner_client, items.phone, "2")
    assemble, test, pack = phones.operations.order_by("sequence")
    start(operator_client, assemble)
    response = operator_client.post(
        f"/api/v1/operations/{assemble.pk}/reports/",
        report_body(
            2,
            consumed=[
                {"item": items.board.pk, "serial": "BRD-1", "quantity": "1"},
                {"item": items.board.pk, "serial": "BRD-2", "quantity": "1"},
                {"item": items.display.pk, "serial": "DSP-1", "quantity": "1"},
                {"item": items.display.pk, "serial": "DSP-2", "quantity": "1"},
                {"item": items.battery.pk, "lot": "BAT-L1", "quantity": "2"},
                {"item": items.housing.pk, "lot": "HSG-L1", "quantity": "2"},
            ],
            serials=["PHN-1", "PHN-2"],
        ),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    backflushed = [c for c in body["consumed"] if c["backflushed"]]
    assert [(c["item_code"], c["quantity"], c["location"]) for c in backflushed] == [("SCREW", "8.000", locations.line_assy.pk)]
    assert {p["serial_code"]: p["location"] for p in body["produced"]} == {"PHN-1": locations.wip.pk, "PHN-2": locations.wip.pk}
    test.refresh_from_db()
    assert test.status == "ready"  # the first phones are on their way
    _complete(operator_client, assemble)

    start(operator_client, test)
    response = operator_client.post(f"/api/v1/operations/{test.pk}/reports/", report_body(2, serials=["PHN-1", "PHN-2"]), format="json")
    assert response.status_code == 201, response.content
    assert {p["action"] for p in response.json()["produced"]} == {"counted"}  # the phones stay where they are
    _complete(operator_client, test)

    start(operator_client, pack)
    response = operator_client.post(f"/api/v1/operations/{pack.pk}/reports/", report_body(2, serials=["PHN-1", "PHN-2"]), format="json")
    assert response.status_code == 201, response.content
    packed = response.json()
    assert [(c["item_code"], c["quantity"]) for c in packed["consumed"]] == [("BOX", "2.000")]
    assert {(p["action"], p["location"]) for p in packed["produced"]} == {("passed", locations.fg.pk)}
    finished = _complete(operator_client, pack)
    assert finished["status"] == "done"

    # Finished goods received, the order completed and announced.
    phones.refresh_from_db()
    assert phones.status == "completed"
    assert set(SerialNumber.objects.filter(item=items.phone).values_list("code", "current_location", "status")) == {
        ("PHN-1", locations.fg.pk, "available"),
        ("PHN-2", locations.fg.pk, "available"),
    }
    assert StockBalance.objects.get(item=items.phone, location=locations.fg).quantity == Decimal("2")
    assert not StockBalance.objects.filter(item=items.phone, location=locations.wip, quantity__gt=0).exists()
    event = Event.objects.get(type="work_order.completed", aggregate_id=str(phones.pk))
    assert set(event.payload) == {"work_order_id", "number", "item_id", "quantity", "finished_lots", "finished_serials"}
    assert event.payload["item_id"] == items.phone.pk and event.payload["quantity"] == "2.000"
    assert sorted(s["code"] for s in event.payload["finished_serials"]) == ["PHN-1", "PHN-2"]
    reported = Event.objects.filter(type="production.reported").order_by("id").last().payload
    assert set(reported) == {
        "report_id", "work_order_id", "operation_id", "operation_sequence", "item_id",
        "quantity_good", "quantity_scrap", "produced_lots", "produced_serials",
    }
    assert reported["operation_sequence"] == 30
    # Every start and completion is attributable: user, server time, the tablet's time.
    history = list(OperationEvent.objects.filter(operation=pack).order_by("id"))
    assert [(h.action, h.user_id) for h in history] == [("ready", operator_client.user.pk), ("start", operator_client.user.pk), ("complete", operator_client.user.pk)]
    assert history[1].recorded_at.isoformat() == "2026-11-25T07:00:00+00:00" and history[1].occurred_at is not None
    assert ProductionReport.objects.filter(work_order=phones, user=operator_client.user).count() == 3

    # Genealogy: from a finished phone back to the component lots of its main board.
    trace = operator_client.get("/api/v1/trace/backward/", {"serial": "PHN-1"})
    assert trace.status_code == 200, trace.content
    nodes = _nodes(trace.json())
    assert {"BRD-1", "DSP-1", "BAT-L1", "HSG-L1", "PCB-L1", "CHIP-L1", "PASTE-L1"} <= set(nodes)
    assert "BRD-2" not in nodes and "DSP-2" not in nodes  # the other phone's board and display
    board = next(child for child in trace.json()["children"] if child["code"] == "BRD-1")
    assert {child["code"] for child in board["children"]} == {"PCB-L1", "CHIP-L1", "PASTE-L1"}
    assert ledger_discrepancies() == []
