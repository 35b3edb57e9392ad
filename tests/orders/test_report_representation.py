"""A production report is rendered directly (the busiest answer of the API), exactly as DRF's
generic rendering of the declared fields renders it."""

from decimal import Decimal

import pytest

from orders.api.execution_serializers import ProductionReportSerializer
from orders.models import ProductionReport
from tests.orders.execution_setup import *  # noqa: F403
from tests.orders.execution_setup import report_body, start

pytestmark = pytest.mark.django_db


def _both(report) -> tuple[dict, dict]:
    serializer = ProductionReportSerializer(report)
    return serializer.to_representation(report), serializer.generic_representation(report)


def test_a_new_report_a_stored_one_and_its_reversal_render_as_drf_renders_them(plant, released, operator_client, supervisor_client):
    from inventory.services import receive

    receive(item=plant.items.board, location=plant.locations.stores, quantity=Decimal(2), serial_codes=["BRD-1", "BRD-2"], user=plant.clerk)
    order = released(plant.items.phone, 2)
    assembly = order.operations.get(sequence=10)
    start(operator_client, assembly)
    body = report_body(
        1,
        scrap=1,
        consumed=[
            {"item": plant.items.board.pk, "serial": "BRD-1"},
            {"item": plant.items.display.pk, "serial": "DSP-1"},
            {"item": plant.items.battery.pk, "lot": "BAT-L1", "quantity": "1"},
            {"item": plant.items.housing.pk, "lot": "HSG-L1", "quantity": "1"},
        ],
        serials=["PHN-1"],
        scrap_reason=plant.reasons.scrap.code,
        labor_minutes="12.5",
        recorded_at="2026-11-25T09:30:00+01:00",
    )
    response = operator_client.post(f"/api/v1/operations/{assembly.pk}/reports/", body, format="json")
    assert response.status_code == 201, response.content
    answered = response.json()
    assert answered["labor_minutes"] == "12.50" and answered["scrap_reason"] == plant.reasons.scrap.code

    stored = ProductionReport.objects.get(pk=answered["id"])
    direct, generic = _both(stored)
    assert direct == generic
    assert answered == direct

    reversal = supervisor_client.post(f"/api/v1/production-reports/{stored.pk}/reverse/", {"reason": "Wrong order"}, format="json")
    assert reversal.status_code == 201, reversal.content
    for report in ProductionReport.objects.filter(pk__in=[stored.pk, reversal.json()["id"]]):
        direct, generic = _both(report)
        assert direct == generic
    assert _both(ProductionReport.objects.get(pk=stored.pk))[0]["reversed_by"] == reversal.json()["id"]


def test_times_follow_the_current_time_zone_and_quantities_keep_three_places_as_drf_renders_them(plant, released, operator_client):
    from django.utils import timezone

    order = released(plant.items.phone, 2)
    assembly = order.operations.get(sequence=10)
    start(operator_client, assembly)
    body = report_body(0, scrap=1, scrap_reason=plant.reasons.scrap.code, recorded_at="2026-11-25T23:30:00-05:00")
    response = operator_client.post(f"/api/v1/operations/{assembly.pk}/reports/", body, format="json")
    assert response.status_code == 201, response.content
    stored = ProductionReport.objects.get(pk=response.json()["id"])
    assert response.json()["recorded_at"] == "2026-11-26T04:30:00Z"

    with timezone.override("Asia/Kolkata"):
        direct, generic = _both(stored)
    assert direct == generic
    assert direct["recorded_at"] == "2026-11-26T10:00:00+05:30"
    stored.quantity_scrap = 7  # as a caller may set it: not a Decimal
    direct, generic = _both(stored)
    assert direct["quantity_scrap"] == generic["quantity_scrap"] == "7.000"
