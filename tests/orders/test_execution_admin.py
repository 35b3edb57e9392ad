"""Shop-floor records in the admin: reports, history and downtime read-only; reason codes
maintained; a planner reverses a report with an action that asks why."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from orders.models import ProductionReport, ScrapReason
from tests.orders.execution_setup import *  # noqa: F403
from tests.orders.execution_setup import report_body, start

pytestmark = pytest.mark.django_db


def _admin(make_user, role):
    user = make_user(role, is_staff=True)
    Group.objects.get(name=role).permissions.add(*Permission.objects.filter(content_type__app_label="orders"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def report(plant, released, operator_client):
    order = released(plant.items.board, 2)
    smt = order.operations.get()
    start(operator_client, smt)
    consumed = [{"item": plant.items.pcb.pk, "lot": "PCB-L1", "quantity": "1"}, {"item": plant.items.chip.pk, "lot": "CHIP-L1", "quantity": "2"}]
    response = operator_client.post(f"/api/v1/operations/{smt.pk}/reports/", report_body(1, consumed=consumed, serials=["BRD-1"]), format="json")
    assert response.status_code == 201, response.content
    return ProductionReport.objects.get(pk=response.json()["id"])


def test_reports_history_and_downtime_are_visible_but_not_editable(report, make_user):
    client = _admin(make_user, "planner")
    assert client.get("/admin/orders/productionreport/").status_code == 200
    page = client.get(f"/admin/orders/productionreport/{report.pk}/change/")
    assert page.status_code == 200 and b"PCB-L1" in page.content
    assert client.get("/admin/orders/productionreport/add/").status_code == 403
    assert client.post(f"/admin/orders/productionreport/{report.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/orders/operationevent/").status_code == 200
    assert client.get("/admin/orders/operationevent/add/").status_code == 403
    assert client.get("/admin/orders/downtimeevent/add/").status_code == 403
    assert ProductionReport.objects.filter(pk=report.pk).exists()


def test_scrap_reasons_are_maintained_in_the_admin(plant, make_user):
    client = _admin(make_user, "planner")
    response = client.post("/admin/orders/scrapreason/add/", {"code": "BENT", "name": "Bent pins", "is_active": "on"})
    assert response.status_code == 302
    assert ScrapReason.objects.get(code="BENT").name == "Bent pins"


def test_a_planner_reverses_a_report_from_the_admin_with_a_reason(report, make_user):
    client = _admin(make_user, "planner")
    changelist = "/admin/orders/productionreport/"
    asked = client.post(changelist, {"action": "reverse_selected", "_selected_action": [report.pk]})
    assert asked.status_code == 200 and b"Reverse these reports" in asked.content
    done = client.post(changelist, {"action": "reverse_selected", "_selected_action": [report.pk], "apply": "1", "reason": "wrong order scanned"})
    assert done.status_code == 302
    reversal = ProductionReport.objects.get(reverses=report)
    assert reversal.reason == "wrong order scanned" and reversal.quantity_good == Decimal("-1")


def test_an_operator_cannot_reverse_from_the_admin(report, make_user):
    client = _admin(make_user, "operator")
    response = client.post(
        "/admin/orders/productionreport/", {"action": "reverse_selected", "_selected_action": [report.pk], "apply": "1", "reason": "x"}
    )
    assert not ProductionReport.objects.filter(reverses=report).exists()
    assert response.status_code in (200, 302, 403)
