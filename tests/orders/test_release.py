"""Releasing work orders: BOM and routing frozen, material reserved, operations created."""

from decimal import Decimal

import pytest

from inventory.models import Reservation
from inventory.selectors import available_quantity
from mes.errors import ApplicationError, InvalidTransition
from mes.models import Event
from orders import services
from orders.models import RevisionStatus, WorkOrder, WorkOrderEvent, WorkOrderMaterial, WorkOrderOperation
from tests.factories import ItemFactory, WorkOrderFactory
from tests.orders.conftest import line

pytestmark = pytest.mark.django_db


def _open_reservations(work_order):
    return {
        (r.item.code): r.quantity
        for r in Reservation.objects.filter(demand_type="work_order", demand_id=work_order.pk, status="open").select_related("item")
    }


def test_release_reserves_exactly_the_exploded_quantities(phone_stock, planner_client):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    response = planner_client.post(f"/api/v1/work-orders/{order.pk}/release/", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "released" and body["shortages"] == []
    assert body["bom"] == phone_stock.bom.pk and body["routing"] == phone_stock.routing.pk
    # Single level: the board is a stocked sub-assembly (10 × 1.02 → 11), the phantom kit
    # resolves into screws and tape at the kit's operation.
    assert _open_reservations(order) == {
        "BOARD": Decimal("11"),
        "DISPLAY": Decimal("10"),
        "SCREW": Decimal("63"),
        "TAPE": Decimal("20"),
        "BOX": Decimal("10"),
    }
    materials = {(m["item_code"], m["operation_sequence"]): (m["quantity_required"], m["quantity_reserved"]) for m in body["materials"]}
    assert materials == {
        ("BOARD", 10): ("11.000", "11.000"),
        ("DISPLAY", 10): ("10.000", "10.000"),
        ("SCREW", 20): ("63.000", "63.000"),
        ("TAPE", 20): ("20.000", "20.000"),
        ("BOX", 30): ("10.000", "10.000"),
    }
    assert all(WorkOrderMaterial.objects.filter(work_order=order, reservation_id__isnull=False).values_list("pk", flat=True))
    assert [(op["sequence"], op["work_center_code"], op["status"]) for op in body["operations"]] == [
        (10, "ASSY", "ready"),
        (20, "TEST", "pending"),
        (30, "PACK", "pending"),
    ]
    order.refresh_from_db()
    assert order.released_by == planner_client.user and order.released_at and order.release_time == order.released_at
    assert available_quantity(item=phone_stock.items.screw) == 0
    event = Event.objects.get(type="work_order.released")
    assert event.aggregate_id == str(order.pk) and event.payload["bom_revision"] == "A"
    assert list(order.events.values_list("from_status", "to_status", "user")) == [("draft", "released", planner_client.user.pk)]


def test_a_second_release_is_409_and_reserves_nothing_more(phone_stock, planner_client):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    assert planner_client.post(f"/api/v1/work-orders/{order.pk}/release/", {}, format="json").status_code == 200
    again = planner_client.post(f"/api/v1/work-orders/{order.pk}/release/", {}, format="json")
    assert again.status_code == 409
    assert again["Content-Type"].startswith("application/problem+json")
    assert again.json()["code"] == "invalid_transition"
    assert Reservation.objects.filter(demand_id=order.pk).count() == 5
    assert WorkOrderOperation.objects.filter(work_order=order).count() == 3


def test_shortage_refuses_the_release_and_changes_nothing(phone, stock, planner_client):
    stock(phone.items.board, 11)
    stock(phone.items.display, 4)
    stock(phone.items.screw, 63)
    stock(phone.items.tape, 20)
    order = WorkOrderFactory(item=phone.items.phone, quantity=Decimal("10"))
    response = planner_client.post(f"/api/v1/work-orders/{order.pk}/release/", {"allow_shortage": False}, format="json")
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "shortage"
    assert [(s["item_code"], s["required"], s["available"]) for s in problem["shortages"]] == [
        ("BOX", "10.000", "0.000"),
        ("DISPLAY", "10.000", "4.000"),
    ]
    assert all(s["item"] for s in problem["shortages"])
    order.refresh_from_db()
    assert order.status == "draft" and order.bom is None and order.routing is None
    assert not Reservation.objects.exists()
    assert not order.operations.exists() and not order.materials.exists()
    assert not Event.objects.filter(type="work_order.released").exists()


def test_allow_shortage_reserves_what_is_there_and_reports_the_rest(phone, stock, planner_client):
    stock(phone.items.board, 11)
    stock(phone.items.display, 4)
    stock(phone.items.screw, 100)
    order = WorkOrderFactory(item=phone.items.phone, quantity=Decimal("10"))
    response = planner_client.post(f"/api/v1/work-orders/{order.pk}/release/", {"allow_shortage": True}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "released"
    assert [(s["item_code"], s["required"], s["available"], s["shortage"]) for s in body["shortages"]] == [
        ("BOX", "10.000", "0.000", "10.000"),
        ("DISPLAY", "10.000", "4.000", "6.000"),
        ("TAPE", "20.000", "0.000", "20.000"),
    ]
    assert _open_reservations(order) == {"BOARD": Decimal("11"), "DISPLAY": Decimal("4"), "SCREW": Decimal("63")}
    box = WorkOrderMaterial.objects.get(work_order=order, item=phone.items.box)
    assert box.quantity_reserved == 0 and box.reservation_id is None and box.shortage == Decimal("10")
    assert WorkOrderEvent.objects.get(work_order=order, to_status="released").details["shortages"]


def test_cancel_frees_the_reservations(phone_stock, planner_client):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    planner_client.post(f"/api/v1/work-orders/{order.pk}/release/", {}, format="json")
    assert available_quantity(item=phone_stock.items.board) == 0
    response = planner_client.post(f"/api/v1/work-orders/{order.pk}/cancel/", {"reason": "customer withdrew"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert not Reservation.objects.filter(demand_id=order.pk, status="open").exists()
    assert available_quantity(item=phone_stock.items.board) == 11
    assert all(m["quantity_reserved"] == "0.000" for m in response.json()["materials"])
    event = Event.objects.get(type="work_order.cancelled")
    assert event.payload["reason"] == "customer withdrew" and event.actor == planner_client.user
    # The freed stock can go to the next order.
    other = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    assert services.work_order_release(work_order=other).shortages == []


def test_release_without_a_routing_is_409_no_routing(planner_client):
    item, part = ItemFactory(), ItemFactory()
    services.bom_create(data={"item": item, "revision": "1", "status": "active", "lines": [line(part, "1")]})
    order = WorkOrderFactory(item=item)
    response = planner_client.post(f"/api/v1/work-orders/{order.pk}/release/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "no_routing"
    assert response.json()["errors"][0]["field"] == "routing"
    order.refresh_from_db()
    assert order.status == "draft"


def test_an_item_without_a_bom_releases_with_operations_only(phone):
    # E.g. a rework or a job-shop order: a routing, no material.
    from tests.factories import RoutingFactory, RoutingOperationFactory

    routing = RoutingFactory()
    RoutingOperationFactory(routing=routing, sequence=10)
    order = WorkOrderFactory(item=routing.item, quantity=Decimal("1"))
    result = services.work_order_release(work_order=order)
    assert result.work_order.status == "released" and result.work_order.bom is None
    assert result.work_order.operations.count() == 1 and not result.work_order.materials.exists()


def test_a_pinned_revision_is_used_instead_of_the_effective_one(phone_stock):
    pilot = services.bom_create(
        data={"item": phone_stock.items.phone, "revision": "PILOT", "status": RevisionStatus.DRAFT, "lines": [line(phone_stock.items.display, "1", op=10)]}
    )
    order = services.work_order_create(data={"item": phone_stock.items.phone, "quantity": Decimal("2"), "bom": pilot})
    services.work_order_release(work_order=order)
    order.refresh_from_db()
    assert order.bom == pilot
    assert list(order.materials.values_list("item__code", "quantity_required")) == [("DISPLAY", Decimal("2"))]


def test_a_line_consumed_at_an_operation_the_routing_lacks_is_refused(phone_stock):
    services.bom_update(bom=phone_stock.bom, data={"lines": [line(phone_stock.items.box, "1", op=99)]})
    order = WorkOrderFactory(item=phone_stock.items.phone)
    with pytest.raises(ApplicationError) as refused:
        services.work_order_release(work_order=order)
    assert refused.value.code == "unknown_operation_sequence"
    assert not Reservation.objects.exists()


def test_lines_without_an_operation_are_consumed_at_the_first(phone_stock):
    services.bom_update(bom=phone_stock.bom, data={"lines": [line(phone_stock.items.box, "1")]})
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("3"))
    services.work_order_release(work_order=order)
    assert list(order.materials.values_list("item__code", "operation_sequence")) == [("BOX", 10)]


def test_the_service_refuses_a_second_release(phone_stock):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("1"))
    services.work_order_release(work_order=order)
    with pytest.raises(InvalidTransition):
        services.work_order_release(work_order=WorkOrder.objects.get(pk=order.pk))


@pytest.mark.parametrize("role, status", [("planner", 200), ("integration", 200), ("operator", 403), ("quality", 403)])
def test_who_may_release(phone_stock, api_client_for, role, status):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("1"))
    response = api_client_for(role).post(f"/api/v1/work-orders/{order.pk}/release/", {}, format="json")
    assert response.status_code == status
    order.refresh_from_db()
    assert order.status == ("released" if status == 200 else "draft")


def test_a_retried_release_with_the_same_idempotency_key_releases_once(phone_stock, planner_client):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    url = f"/api/v1/work-orders/{order.pk}/release/"
    first = planner_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="rel-1")
    second = planner_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="rel-1")
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert Reservation.objects.filter(demand_id=order.pk).count() == 5
