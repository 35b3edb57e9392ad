"""Work orders through the API: drafts, filters, and the state machine."""

import datetime as dt
from decimal import Decimal

import pytest

from mes.models import Event
from orders import services
from orders.models import WORK_ORDER_TRANSITIONS, WorkOrder, WorkOrderStatus
from tests.factories import ItemFactory, WorkOrderFactory

pytestmark = pytest.mark.django_db


def test_planner_creates_a_draft_and_gets_a_number(phone, planner_client):
    response = planner_client.post(
        "/api/v1/work-orders/",
        {"item": phone.items.phone.pk, "quantity": "25", "due_at": "2026-12-01T14:00:00Z", "priority": 80},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["number"] == f"WO-{body['id']:06d}"
    order = WorkOrder.objects.get(pk=body["id"])
    assert order.quantity == Decimal("25") and order.priority == 80
    assert list(order.events.values_list("from_status", "to_status")) == [("", "draft")]


def test_a_given_number_is_kept_and_must_be_unique(phone, erp_client):
    body = {"number": "SAP-100", "item": phone.items.phone.pk, "quantity": "5"}
    assert erp_client.post("/api/v1/work-orders/", body, format="json").status_code == 201
    again = erp_client.post("/api/v1/work-orders/", body, format="json")
    assert again.status_code == 400
    assert again.json()["errors"][0]["field"] == "number"


def test_a_fractional_quantity_of_a_counted_item_is_refused(phone, planner_client):
    response = planner_client.post("/api/v1/work-orders/", {"item": phone.items.phone.pk, "quantity": "2.5"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {"field": "quantity", "code": "fractional_quantity", "message": response.json()["errors"][0]["message"]}
    assert not WorkOrder.objects.exists()


def test_a_pinned_bom_of_another_item_is_refused(phone, planner_client):
    response = planner_client.post(
        "/api/v1/work-orders/", {"item": phone.items.phone.pk, "quantity": "1", "bom": phone.board_bom.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "bom"


def test_a_draft_can_be_changed_and_deleted_a_released_order_cannot(phone_stock, planner_client):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    url = f"/api/v1/work-orders/{order.pk}/"
    assert planner_client.patch(url, {"quantity": "8"}, format="json").status_code == 200
    services.work_order_release(work_order=order)
    changed = planner_client.patch(url, {"quantity": "9"}, format="json")
    assert changed.status_code == 409
    assert changed.json()["code"] == "work_order_not_draft"
    assert planner_client.delete(url).status_code == 409
    order.refresh_from_db()
    assert order.quantity == Decimal("8") and order.status == "released"
    draft = WorkOrderFactory(item=phone_stock.items.phone)
    assert planner_client.delete(f"/api/v1/work-orders/{draft.pk}/").status_code == 204
    assert not WorkOrder.objects.filter(pk=draft.pk).exists()


def test_status_is_not_writable(phone, planner_client):
    order = WorkOrderFactory(item=phone.items.phone)
    planner_client.patch(f"/api/v1/work-orders/{order.pk}/", {"status": "completed"}, format="json")
    order.refresh_from_db()
    assert order.status == "draft"


def test_filters_status_item_and_due_before(phone, operator_client):
    a = WorkOrderFactory(item=phone.items.phone, due_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    b = WorkOrderFactory(item=phone.items.phone, due_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), status="released")
    c = WorkOrderFactory(item=phone.items.board, due_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    ids = lambda query: sorted(row["id"] for row in operator_client.get(f"/api/v1/work-orders/?{query}").json()["results"])  # noqa: E731
    assert ids("status=draft") == sorted([a.pk, c.pk])
    assert ids("status=draft&status=released") == sorted([a.pk, b.pk, c.pk])
    assert ids(f"item={phone.items.phone.pk}") == sorted([a.pk, b.pk])
    assert ids("due_before=2026-06-01T00:00:00Z") == [a.pk]
    assert ids("due_before=2026-06-15") == sorted([a.pk, c.pk])
    bad = operator_client.get("/api/v1/work-orders/?status=exploded")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "status"


def test_upsert_by_external_id_is_idempotent(phone, erp_client):
    url = "/api/v1/work-orders/by-external-id/SAP-PO-77/"
    body = {"number": "PO-77", "item": phone.items.phone.pk, "quantity": "40", "due_at": "2026-09-01T10:00:00Z", "priority": 60}
    first = erp_client.put(url, body, format="json")
    assert first.status_code == 201, first.content
    again = erp_client.put(url, body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert WorkOrder.objects.count() == 1
    erp_client.put(url, {**body, "quantity": "45"}, format="json")
    assert WorkOrder.objects.get().quantity == Decimal("45")


def test_upsert_of_a_released_order_accepts_the_same_data_and_refuses_a_change(phone_stock, erp_client):
    url = "/api/v1/work-orders/by-external-id/SAP-PO-78/"
    body = {"number": "PO-78", "item": phone_stock.items.phone.pk, "quantity": "10"}
    created = erp_client.put(url, body, format="json").json()
    services.work_order_release(work_order=WorkOrder.objects.get(pk=created["id"]))
    assert erp_client.put(url, body, format="json").status_code == 200
    changed = erp_client.put(url, {**body, "quantity": "12"}, format="json")
    assert changed.status_code == 409 and changed.json()["code"] == "work_order_not_draft"
    assert WorkOrder.objects.get().quantity == Decimal("10")


def test_hold_and_resume_return_to_where_the_order_was(phone_stock, planner_client):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("1"))
    services.work_order_release(work_order=order)
    held = planner_client.post(f"/api/v1/work-orders/{order.pk}/hold/", {"reason": "engineering change"}, format="json")
    assert held.status_code == 200 and held.json()["status"] == "on_hold" and held.json()["held_from"] == "released"
    resumed = planner_client.post(f"/api/v1/work-orders/{order.pk}/resume/", {}, format="json")
    assert resumed.status_code == 200 and resumed.json()["status"] == "released"
    # An order held while in progress resumes in progress.
    WorkOrder.objects.filter(pk=order.pk).update(status="in_progress")
    planner_client.post(f"/api/v1/work-orders/{order.pk}/hold/", {}, format="json")
    assert planner_client.post(f"/api/v1/work-orders/{order.pk}/resume/", {}, format="json").json()["status"] == "in_progress"
    assert list(Event.objects.filter(aggregate_type="work_order", aggregate_id=str(order.pk)).values_list("type", flat=True)) == [
        "work_order.released", "work_order.held", "work_order.resumed", "work_order.held", "work_order.resumed",
    ]
    reasons = list(order.events.values_list("to_status", "reason"))
    assert ("on_hold", "engineering change") in reasons


@pytest.mark.parametrize(
    "status, action",
    [
        ("draft", "hold"),
        ("draft", "resume"),
        ("draft", "close"),
        ("released", "resume"),
        ("released", "close"),
        ("in_progress", "cancel"),
        ("completed", "hold"),
        ("completed", "cancel"),
        ("closed", "resume"),
        ("cancelled", "cancel"),
        ("cancelled", "release"),
    ],
)
def test_a_transition_the_table_does_not_allow_is_409(phone, planner_client, status, action):
    order = WorkOrderFactory(item=phone.items.phone, status=status)
    response = planner_client.post(f"/api/v1/work-orders/{order.pk}/{action}/", {}, format="json")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["current_status"] == status
    order.refresh_from_db()
    assert order.status == status and not order.events.exists()


def test_an_order_held_after_it_started_cannot_be_cancelled(phone, planner_client):
    order = WorkOrderFactory(item=phone.items.phone, status="on_hold", held_from="in_progress")
    response = planner_client.post(f"/api/v1/work-orders/{order.pk}/cancel/", {}, format="json")
    assert response.status_code == 409 and response.json()["held_from"] == "in_progress"


def test_a_draft_is_cancelled_without_touching_stock(phone, planner_client):
    order = WorkOrderFactory(item=phone.items.phone)
    response = planner_client.post(f"/api/v1/work-orders/{order.pk}/cancel/", {"reason": "duplicate"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_close_releases_what_is_left_reserved(phone_stock, planner_client):
    from inventory.models import Reservation

    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("1"))
    services.work_order_release(work_order=order)
    WorkOrder.objects.filter(pk=order.pk).update(status="completed")
    response = planner_client.post(f"/api/v1/work-orders/{order.pk}/close/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert not Reservation.objects.filter(demand_id=order.pk, status="open").exists()
    assert Event.objects.filter(type="work_order.closed", aggregate_id=str(order.pk)).exists()


@pytest.mark.parametrize("action", ["hold", "resume", "close"])
def test_only_planners_hold_resume_and_close(phone, erp_client, operator_client, action):
    order = WorkOrderFactory(item=phone.items.phone, status="released")
    assert erp_client.post(f"/api/v1/work-orders/{order.pk}/{action}/", {}, format="json").status_code == 403
    assert operator_client.post(f"/api/v1/work-orders/{order.pk}/{action}/", {}, format="json").status_code == 403


def test_the_transition_table_is_closed_under_its_states():
    states = {s.value for s in WorkOrderStatus}
    assert set(WORK_ORDER_TRANSITIONS) == states
    assert all(targets <= states for targets in WORK_ORDER_TRANSITIONS.values())
    assert WORK_ORDER_TRANSITIONS["closed"] == WORK_ORDER_TRANSITIONS["cancelled"] == frozenset()


def test_operations_list_filters_and_fields(phone_stock, operator_client):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("1"))
    services.work_order_release(work_order=order)
    response = operator_client.get(f"/api/v1/operations/?work_center={phone_stock.work_centers.test.pk}")
    assert response.status_code == 200
    [row] = response.json()["results"]
    for field in ("work_order", "sequence", "work_center", "status", "planned_start", "planned_end", "actual_start", "actual_end", "quantity_good", "quantity_scrap"):
        assert field in row
    assert (row["work_order"], row["sequence"], row["status"]) == (order.pk, 20, "pending")
    ready = operator_client.get(f"/api/v1/operations/?status=ready&work_order={order.pk}").json()["results"]
    assert [r["sequence"] for r in ready] == [10]
    assert operator_client.post("/api/v1/operations/", {}, format="json").status_code == 405


def test_unknown_item_on_create_names_the_field(planner_client):
    response = planner_client.post("/api/v1/work-orders/", {"item": 999999, "quantity": "1"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "item"


def test_an_item_without_work_orders_can_still_be_found(planner_client):
    ItemFactory()
    assert planner_client.get("/api/v1/work-orders/").json()["count"] == 0


def test_bulk_upsert_of_work_orders_goes_through_the_service(phone, erp_client):
    records = [{"external_id": f"SAP-{n}", "item": phone.items.phone.pk, "quantity": "5"} for n in range(3)]
    records[2]["number"] = "GIVEN-2"
    response = erp_client.post("/api/v1/work-orders/bulk/", {"records": records}, format="json")
    assert response.status_code == 200, response.content
    numbers = dict(WorkOrder.objects.values_list("external_id", "number"))
    assert numbers["SAP-2"] == "GIVEN-2"
    assert numbers["SAP-0"].startswith("WO-") and numbers["SAP-1"].startswith("WO-")
    assert all(order.events.filter(to_status="draft").exists() for order in WorkOrder.objects.all())
    again = erp_client.post("/api/v1/work-orders/bulk/", {"records": records}, format="json")
    assert [r["created"] for r in again.json()["results"]] == [False, False, False]
    assert WorkOrder.objects.count() == 3


def test_bulk_upsert_of_work_orders_is_all_or_none(phone, erp_client):
    records = [
        {"external_id": "SAP-A", "item": phone.items.phone.pk, "quantity": "5"},
        {"external_id": "SAP-B", "item": phone.items.phone.pk, "quantity": "2.5"},
    ]
    response = erp_client.post("/api/v1/work-orders/bulk/", {"records": records}, format="json")
    assert response.status_code == 400
    assert response.json()["record_errors"][0]["index"] == 1
    assert response.json()["record_errors"][0]["code"] == "fractional_quantity"
    assert not WorkOrder.objects.exists()


def test_schema_documents_the_orders_endpoints(anonymous_client):
    schema = anonymous_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in (
        "/api/v1/calendars/",
        "/api/v1/boms/{id}/explosion/",
        "/api/v1/items/{id}/where-used/",
        "/api/v1/routings/by-external-id/{external_id}/",
        "/api/v1/work-orders/{id}/release/",
        "/api/v1/work-orders/{id}/cancel/",
        "/api/v1/operations/",
    ):
        assert path in schema["paths"], path
    release = schema["paths"]["/api/v1/work-orders/{id}/release/"]["post"]
    assert "409" in release["responses"]
