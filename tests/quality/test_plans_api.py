"""Inspection plans over the API: nested characteristics, who writes them, problem details; and the
quality endpoints in the schema."""

from __future__ import annotations

import pytest

from quality import services
from quality.models import (
    Characteristic,
    Inspection,
    InspectionPlan,
)
from tests.quality.conftest import characteristics, field_errors, receive_lot

pytestmark = pytest.mark.django_db


def _plan_body(item, **overrides) -> dict:
    return {
        "item": item.pk,
        "name": "Incoming displays",
        "trigger": "receipt",
        "aql": "1.0",
        "inspection_level": "II",
        "characteristics": [
            {"name": "Brightness", "kind": "variable", "nominal": "600", "lsl": "550", "usl": "650", "unit": "nits"},
            {"name": "Cosmetic", "kind": "attribute"},
        ],
        **overrides,
    }



def test_quality_creates_a_plan_with_its_characteristics(quality_client, displays):
    response = quality_client.post("/api/v1/inspection-plans/", _plan_body(displays), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["item_code"], body["trigger"], body["aql"], body["inspection_level"]) == ("DSP", "receipt", "1.000", "II")
    assert [(c["name"], c["kind"], c["lsl"], c["usl"]) for c in body["characteristics"]] == [
        ("Brightness", "variable", "550.000000", "650.000000"),
        ("Cosmetic", "attribute", None, None),
    ]
    plan = InspectionPlan.objects.get(pk=body["id"])
    assert plan.characteristics.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"aql": "1.2"}, "aql", "invalid_aql"),
        ({"trigger": "operation"}, "routing_operation_sequence", "invalid"),
        ({"inspection_level": "IV"}, "inspection_level", "invalid_choice"),
        ({"characteristics": [{"name": "Brightness", "kind": "variable", "lsl": "650", "usl": "550"}]}, "characteristics.0.usl", "invalid"),
        ({"characteristics": [{"name": "Brightness", "kind": "variable"}]}, "characteristics.0.usl", "invalid"),
        ({"characteristics": [{"name": "Cosmetic", "kind": "attribute", "usl": "1"}]}, "characteristics.0.usl", "invalid"),
        ({"characteristics": [{"name": "A", "kind": "attribute"}, {"name": "A", "kind": "attribute"}]}, "characteristics.1.name", "duplicate_name"),
        ({"characteristics": [{"name": "A", "kind": "gauge"}]}, "characteristics.0.kind", "invalid_choice"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field(quality_client, displays, overrides, field, code):
    response = quality_client.post("/api/v1/inspection-plans/", _plan_body(displays, **overrides), format="json")

    assert response.status_code == 400, response.content
    errors = field_errors(response)
    assert field in errors, errors
    assert errors[field] == code
    assert not InspectionPlan.objects.exists()


def test_an_update_replaces_the_characteristics_at_once(quality_client, receipt_plan, displays, receiving, inspector):
    brightness, cosmetic = characteristics(receipt_plan)
    url = f"/api/v1/inspection-plans/{receipt_plan.pk}/"
    body = _plan_body(
        displays,
        characteristics=[
            {"id": brightness.pk, "name": "Luminance", "kind": "variable", "lsl": "560", "usl": "640", "unit": "nits"},
            {"name": "Touch response", "kind": "attribute"},
        ],
    )

    response = quality_client.put(url, body, format="json")

    assert response.status_code == 200, response.content
    rows = {c["name"]: c for c in response.json()["characteristics"]}
    assert set(rows) == {"Luminance", "Touch response"}
    assert rows["Luminance"]["id"] == brightness.pk
    assert not Characteristic.objects.filter(pk=cosmetic.pk).exists()

    # A bad row refuses the whole update: nothing changes.
    bad = _plan_body(displays, name="Renamed", characteristics=[{"id": brightness.pk, "name": "Luminance", "kind": "variable", "lsl": "700", "usl": "640"}])
    refused = quality_client.put(url, bad, format="json")
    assert refused.status_code == 400
    assert "characteristics.0.usl" in field_errors(refused)
    receipt_plan.refresh_from_db()
    assert receipt_plan.name == "Incoming displays"
    assert receipt_plan.characteristics.count() == 2


def test_a_characteristic_with_measurements_cannot_be_removed(quality_client, receipt_plan, displays, receiving, inspector):
    receive_lot(displays, receiving, code="L-1")
    brightness, cosmetic = characteristics(receipt_plan)
    services.measurements_record(
        inspection=Inspection.objects.get(), measurements=[{"characteristic": cosmetic.pk, "sample_index": 1, "passed": True}], user=inspector
    )
    body = _plan_body(displays, characteristics=[{"id": brightness.pk, "name": "Brightness", "kind": "variable", "usl": "650"}])

    response = quality_client.put(f"/api/v1/inspection-plans/{receipt_plan.pk}/", body, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "characteristic_in_use"
    assert Characteristic.objects.filter(pk=cosmetic.pk).exists()
    deleted = quality_client.delete(f"/api/v1/inspection-plans/{receipt_plan.pk}/")
    assert deleted.status_code == 409 and deleted.json()["code"] == "plan_in_use"


@pytest.mark.parametrize(("role", "read", "write"), [("quality", 200, 201), ("planner", 200, 403), ("operator", 200, 403), ("integration", 200, 403)])
def test_only_quality_writes_plans(api_client_for, displays, role, read, write):
    client = api_client_for(role)
    assert client.get("/api/v1/inspection-plans/").status_code == read
    assert client.post("/api/v1/inspection-plans/", _plan_body(displays), format="json").status_code == write


def test_the_quality_endpoints_are_in_the_schema(anonymous_client):
    paths = anonymous_client.get("/api/schema/?format=json").json()["paths"]
    for path in (
        "/api/v1/inspection-plans/",
        "/api/v1/inspections/",
        "/api/v1/inspections/{id}/measurements/",
        "/api/v1/nonconformances/",
        "/api/v1/nonconformances/{id}/disposition/",
        "/api/v1/spc/{id}/",
    ):
        assert path in paths, path
