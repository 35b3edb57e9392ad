"""The planner's admin: release actions, BOM editing through the services, the item structure page."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client

from inventory.models import Reservation
from orders.models import BOMLine, WorkOrder
from tests.factories import WorkOrderFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/workorder/"


def _staff_client(make_user, role, permissions):
    user = make_user(role, is_staff=True)
    Group.objects.get(name=role).permissions.add(*permissions)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def planner_admin(make_user):
    perms = Permission.objects.filter(content_type__app_label__in=["orders", "inventory"])
    return _staff_client(make_user, "planner", perms)


@pytest.fixture
def operator_admin(make_user):
    perms = Permission.objects.filter(content_type__app_label="orders", codename__startswith="view_")
    return _staff_client(make_user, "operator", perms)


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_admin_release_action_releases_and_reserves_for_a_planner(phone_stock, planner_admin):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    response = planner_admin.post(CHANGELIST, {"action": "release_selected", "_selected_action": [order.pk]})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "released" and order.operations.count() == 3
    assert Reservation.objects.filter(demand_id=order.pk, status="open").count() == 5
    assert f"{order.number} released; material reserved." in _messages(response)


def test_admin_release_reports_shortages_per_order(phone, stock, planner_admin):
    stock(phone.items.board, 100)
    stock(phone.items.display, 100)
    stock(phone.items.screw, 1000)
    stock(phone.items.tape, 1000)
    stock(phone.items.box, 12)
    short = WorkOrderFactory(item=phone.items.phone, quantity=Decimal("20"))
    fine = WorkOrderFactory(item=phone.items.phone, quantity=Decimal("10"))
    response = planner_admin.post(CHANGELIST, {"action": "release_selected", "_selected_action": [short.pk, fine.pk]})
    messages = _messages(response)
    assert any(short.number in m and "BOX: need 20.000, available 12.000" in m and "not released" in m for m in messages)
    assert f"{fine.number} released; material reserved." in messages
    assert WorkOrder.objects.get(pk=short.pk).status == "draft"
    assert WorkOrder.objects.get(pk=fine.pk).status == "released"
    anyway = planner_admin.post(CHANGELIST, {"action": "release_selected_allowing_shortage", "_selected_action": [short.pk]})
    assert any("released with shortages" in m and "BOX: need 20.000, available 2.000" in m for m in _messages(anyway))
    assert WorkOrder.objects.get(pk=short.pk).status == "released"


def test_admin_release_action_is_refused_to_an_operator(phone_stock, operator_admin):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    listing = operator_admin.get(CHANGELIST)
    assert listing.status_code == 200
    assert b"release_selected" not in listing.content
    response = operator_admin.post(CHANGELIST, {"action": "release_selected", "_selected_action": [order.pk]})
    assert response.status_code in (200, 302, 403)
    order.refresh_from_db()
    assert order.status == "draft"
    assert not Reservation.objects.exists()


def test_a_user_outside_the_admin_cannot_release(phone_stock, make_user):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    client = Client()
    client.force_login(make_user("operator"))
    response = client.post(CHANGELIST, {"action": "release_selected", "_selected_action": [order.pk]})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert WorkOrder.objects.get(pk=order.pk).status == "draft"


def test_admin_hold_and_cancel_actions(phone_stock, planner_admin):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    planner_admin.post(CHANGELIST, {"action": "release_selected", "_selected_action": [order.pk]})
    planner_admin.post(CHANGELIST, {"action": "hold_selected", "_selected_action": [order.pk]})
    assert WorkOrder.objects.get(pk=order.pk).status == "on_hold"
    planner_admin.post(CHANGELIST, {"action": "cancel_selected", "_selected_action": [order.pk]})
    assert WorkOrder.objects.get(pk=order.pk).status == "cancelled"
    assert not Reservation.objects.filter(status="open").exists()
    refused = planner_admin.post(CHANGELIST, {"action": "hold_selected", "_selected_action": [order.pk]})
    assert any("not held" in m for m in _messages(refused))


def test_admin_work_order_pages_render(phone_stock, planner_admin):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    assert planner_admin.get(f"/admin/orders/workorder/{order.pk}/change/").status_code == 200
    assert planner_admin.get(f"{CHANGELIST}?status__exact=draft").status_code == 200
    assert planner_admin.get("/admin/orders/workorder/add/").status_code == 200


def test_admin_creates_a_draft_with_a_generated_number(phone, planner_admin):
    response = planner_admin.post(
        "/admin/orders/workorder/add/",
        {"number": "", "item": phone.items.phone.pk, "quantity": "4", "priority": "50", "notes": ""},
    )
    assert response.status_code == 302, response.content[:2000]
    order = WorkOrder.objects.get()
    assert order.number == f"WO-{order.pk:06d}" and order.status == "draft"


def _bom_form(bom, lines):
    data = {
        "item": bom.item_id,
        "revision": bom.revision,
        "status": bom.status,
        "effective_from": "",
        "effective_to": "",
        "description": "",
        "external_id": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, (component, quantity, unit) in enumerate(lines):
        data.update(
            {
                f"lines-{index}-position": str(index),
                f"lines-{index}-component": str(component.pk),
                f"lines-{index}-quantity": quantity,
                f"lines-{index}-unit": unit,
                f"lines-{index}-scrap_factor": "0",
                f"lines-{index}-operation_sequence": "",
            }
        )
    return data


def test_admin_bom_edit_goes_through_the_rules(phone, planner_admin):
    url = f"/admin/orders/billofmaterials/{phone.kit_bom.pk}/change/"
    assert planner_admin.get(url).status_code == 200
    # Replacing the kit's lines with one that contains the phone makes a cycle: refused, shown.
    existing = list(phone.kit_bom.lines.values_list("pk", flat=True))
    data = _bom_form(phone.kit_bom, [(phone.items.phone, "1", "pcs")])
    data["lines-INITIAL_FORMS"] = "0"
    data.update({f"lines-{n + 1}-id": pk for n, pk in enumerate(existing)})
    response = planner_admin.post(url, data)
    assert response.status_code == 200
    assert "KIT → PHONE → KIT" in response.content.decode()
    assert list(phone.kit_bom.lines.values_list("pk", flat=True)) == existing
    # A valid edit is saved through the service.
    response = planner_admin.post(url, _bom_form(phone.kit_bom, [(phone.items.screw, "8", "pcs")]))
    assert response.status_code == 302, response.content[:3000]
    assert list(BOMLine.objects.filter(bom=phone.kit_bom).values_list("component__code", "quantity")) == [("SCREW", Decimal("8"))]


def test_admin_bom_unit_mismatch_is_shown_on_the_form(phone, planner_admin):
    url = f"/admin/orders/billofmaterials/{phone.kit_bom.pk}/change/"
    response = planner_admin.post(url, _bom_form(phone.kit_bom, [(phone.items.screw, "8", "kg")]))
    assert response.status_code == 200
    assert "counted in pcs, not kg" in response.content.decode()


def test_item_structure_page_shows_explosion_and_where_used(phone, planner_admin):
    item_page = planner_admin.get(f"/admin/inventory/item/{phone.items.board.pk}/change/")
    structure_url = f"/admin/orders/billofmaterials/item/{phone.items.board.pk}/structure/"
    assert structure_url.encode() in item_page.content
    page = planner_admin.get(structure_url + "?quantity=10")
    assert page.status_code == 200
    html = page.content.decode()
    assert "PCB" in html and "11.000" in html  # 10 boards × 1.05 scrap → 10.5 → 11
    assert "PHONE" in html  # where used
    assert planner_admin.get(f"/admin/orders/billofmaterials/item/{phone.items.screw.pk}/structure/").status_code == 200


def test_calendar_admin_saves_shifts_through_the_service(planner_admin):
    from orders.models import Calendar

    data = {
        "code": "ADM",
        "name": "Admin calendar",
        "timezone": "UTC",
        "external_id": "",
        "shifts-TOTAL_FORMS": "1",
        "shifts-INITIAL_FORMS": "0",
        "shifts-MIN_NUM_FORMS": "0",
        "shifts-MAX_NUM_FORMS": "1000",
        "shifts-0-weekday": "0",
        "shifts-0-start": "06:00",
        "shifts-0-end": "14:00",
        "shifts-0-name": "early",
        "exceptions-TOTAL_FORMS": "0",
        "exceptions-INITIAL_FORMS": "0",
        "exceptions-MIN_NUM_FORMS": "0",
        "exceptions-MAX_NUM_FORMS": "1000",
    }
    response = planner_admin.post("/admin/orders/calendar/add/", data)
    assert response.status_code == 302, response.content[:3000]
    assert Calendar.objects.get(code="ADM").shifts.get().name == "early"
