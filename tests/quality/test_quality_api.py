"""The quality API as its users see it: plans with nested characteristics, inspections and their
measurements, nonconformances and their disposition, control charts; roles; problem details."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Lot, StockMove
from inventory.selectors import ledger_discrepancies
from mes.models import ElectronicSignature
from quality import services
from quality.models import (
    Characteristic,
    Inspection,
    InspectionPlan,
    Measurement,
    Nonconformance,
)
from quality.spc import capability, xbar_r_chart
from tests.factories import PASSWORD
from tests.quality.conftest import characteristics, receive_lot

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


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


def _field_errors(response) -> dict[str, str]:
    assert response["Content-Type"].startswith(PROBLEM), response.content
    return {error["field"]: error["code"] for error in response.json().get("errors", [])}


# --- plans -------------------------------------------------------------------------------------


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
    errors = _field_errors(response)
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
    assert "characteristics.0.usl" in _field_errors(refused)
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


# --- inspections and measurements -------------------------------------------------------------


def test_quality_opens_an_inspection_by_hand(quality_client, receipt_plan, displays, receiving):
    lot = receive_lot(displays, receiving, code="L-1", quantity=90)
    Inspection.objects.all().delete()

    response = quality_client.post("/api/v1/inspections/", {"plan": receipt_plan.pk, "lot": lot.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["lot"], body["lot_size"], body["sample_size"], body["code_letter"], body["status"]) == (lot.pk, 90, 13, "E", "open")
    assert body["measurements"] == []


def test_an_inspection_of_a_missing_operation_is_refused(quality_client, receipt_plan):
    response = quality_client.post(
        "/api/v1/inspections/", {"plan": receipt_plan.pk, "lot_size": 10, "operation": 987654}, format="json"
    )
    assert response.status_code == 400
    assert _field_errors(response) == {"operation": "operation_not_found"}


def test_an_operator_records_measurements_and_the_inspection_decides(operator_client, receipt_plan, displays, receiving):
    lot = receive_lot(displays, receiving, code="L-1")
    inspection = Inspection.objects.get()
    brightness, _ = characteristics(receipt_plan)
    url = f"/api/v1/inspections/{inspection.pk}/measurements/"

    response = operator_client.post(
        url,
        [{"characteristic": brightness.pk, "sample_index": 1, "value": "540"}, {"characteristic": brightness.pk, "sample_index": 2, "value": "661.5"}],
        format="json",
        HTTP_IDEMPOTENCY_KEY="meas-1",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["disposition"], body["nonconforming_count"]) == ("failed", "rejected", 2)
    assert [(m["sample_index"], m["value"], m["in_spec"]) for m in body["measurements"]] == [
        (1, "540.000000", False),
        (2, "661.500000", False),
    ]
    assert body["nonconformances"][0]["number"].startswith("NCR-")
    assert Lot.objects.get(pk=lot.pk).status == "on_hold"
    # A retry with the same key answers the same and records nothing twice.
    retry = operator_client.post(
        url,
        [{"characteristic": brightness.pk, "sample_index": 1, "value": "540"}, {"characteristic": brightness.pk, "sample_index": 2, "value": "661.5"}],
        format="json",
        HTTP_IDEMPOTENCY_KEY="meas-1",
    )
    assert retry.status_code == 201 and retry.json() == body
    assert Measurement.objects.count() == 2 and Nonconformance.objects.count() == 1


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([{"characteristic": "B", "sample_index": 1}], "measurements.0.value"),
        ([{"characteristic": "B", "sample_index": 1, "value": "1"}, {"characteristic": "C", "sample_index": 99, "passed": True}], "measurements.1.sample_index"),
        ([{"characteristic": "B", "sample_index": "first", "value": "1"}], "measurements.0.sample_index"),
        ([{"characteristic": 424242, "sample_index": 1, "passed": True}], "measurements.0.characteristic"),
        ([], "measurements"),
    ],
)
def test_bad_measurements_are_problem_details_naming_the_field(operator_client, receipt_plan, displays, receiving, rows, field):
    receive_lot(displays, receiving, code="L-1")
    inspection = Inspection.objects.get()
    brightness, cosmetic = characteristics(receipt_plan)
    ids = {"B": brightness.pk, "C": cosmetic.pk}
    rows = [{**row, "characteristic": ids.get(row["characteristic"], row["characteristic"])} for row in rows]

    response = operator_client.post(f"/api/v1/inspections/{inspection.pk}/measurements/", rows, format="json")

    assert response.status_code == 400, response.content
    assert field in _field_errors(response)
    assert not Measurement.objects.exists()


def test_planners_read_inspections_but_do_not_measure(planner_client, receipt_plan, displays, receiving):
    receive_lot(displays, receiving, code="L-1")
    inspection = Inspection.objects.get()
    brightness, _ = characteristics(receipt_plan)

    assert planner_client.get(f"/api/v1/inspections/{inspection.pk}/").status_code == 200
    refused = planner_client.post(
        f"/api/v1/inspections/{inspection.pk}/measurements/",
        [{"characteristic": brightness.pk, "sample_index": 1, "value": "600"}],
        format="json",
    )
    assert refused.status_code == 403 and refused["Content-Type"].startswith(PROBLEM)
    assert planner_client.post("/api/v1/inspections/", {"plan": receipt_plan.pk, "lot_size": 5}, format="json").status_code == 403


def test_inspections_filter_by_plan_status_lot_and_serial(quality_client, receipt_plan, displays, receiving, inspector):
    first = receive_lot(displays, receiving, code="L-1")
    receive_lot(displays, receiving, code="L-2")
    measure = Inspection.objects.get(lot=first)
    from tests.quality.conftest import measure_all

    measure_all(measure, user=inspector)

    by_lot = quality_client.get(f"/api/v1/inspections/?lot={first.pk}").json()
    assert [row["lot_code"] for row in by_lot["results"]] == ["L-1"]
    passed = quality_client.get(f"/api/v1/inspections/?plan={receipt_plan.pk}&status=passed").json()
    assert [row["id"] for row in passed["results"]] == [measure.pk]
    assert quality_client.get("/api/v1/inspections/?status=failed").json()["count"] == 0
    assert quality_client.get("/api/v1/inspections/?serial=99999").json()["count"] == 0


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_list_endpoints_use_a_fixed_number_of_queries(quality_client, receipt_plan, displays, receiving, inspector):
    def add_lots(start: int, count: int) -> None:
        for n in range(start, start + count):
            lot = receive_lot(displays, receiving, code=f"L-{n}", quantity=20)
            inspection = Inspection.objects.get(lot=lot)
            value = "500" if n % 2 else "600"  # every other lot fails and opens a nonconformance
            services.measurements_record(
                inspection=inspection,
                measurements=[{"characteristic": characteristics(receipt_plan)[0].pk, "sample_index": i, "value": value} for i in (1, 2)],
                user=inspector,
            )

    add_lots(0, 2)
    urls = ["/api/v1/inspections/", "/api/v1/nonconformances/", "/api/v1/inspection-plans/"]
    few = {url: _queries(quality_client, url) for url in urls}
    add_lots(2, 6)
    many = {url: _queries(quality_client, url) for url in urls}

    assert many == few
    assert all(count <= 12 for count in many.values()), many


# --- nonconformances -------------------------------------------------------------------------


@pytest.fixture
def failed_lot(receipt_plan, displays, receiving, inspector):
    lot = receive_lot(displays, receiving, code="L-BAD")
    brightness, _ = characteristics(receipt_plan)
    services.measurements_record(
        inspection=Inspection.objects.get(lot=lot),
        measurements=[{"characteristic": brightness.pk, "sample_index": i, "value": "500"} for i in (1, 2)],
        user=inspector,
    )
    return lot


def test_quality_scraps_a_rejected_lot_through_the_api(quality_client, failed_lot):
    ncr = Nonconformance.objects.get()
    listed = quality_client.get("/api/v1/nonconformances/?status=open").json()
    assert [row["number"] for row in listed["results"]] == [ncr.number]
    assert listed["results"][0]["holds"][0]["lot_code"] == "L-BAD"

    response = quality_client.post(
        f"/api/v1/nonconformances/{ncr.pk}/disposition/",
        {"disposition": "scrap", "note": "dim", "signature_password": PASSWORD},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["disposition"], body["disposition_note"]) == ("closed", "scrap", "dim")
    assert [e["to_status"] for e in body["events"]] == ["open", "closed"]
    assert [(s["signer"], s["meaning"]) for s in body["signatures"]] == [(quality_client.user.username, "Dispositioned: scrap")]
    assert body["events"][-1]["details"]["signature"] == body["signatures"][0]["id"]
    assert StockMove.objects.filter(kind="scrap", lot=failed_lot).exists()
    assert ledger_discrepancies() == []
    again = quality_client.post(
        f"/api/v1/nonconformances/{ncr.pk}/disposition/", {"disposition": "scrap", "signature_password": PASSWORD}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_a_disposition_is_refused_naming_the_field(quality_client, operator_client, failed_lot):
    ncr = Nonconformance.objects.get()
    url = f"/api/v1/nonconformances/{ncr.pk}/disposition/"

    unknown = quality_client.post(url, {"disposition": "burn"}, format="json")
    assert unknown.status_code == 400 and "disposition" in _field_errors(unknown)
    assert operator_client.post(url, {"disposition": "use_as_is"}, format="json").status_code == 403
    for unsigned in ({"disposition": "scrap"}, {"disposition": "scrap", "signature_password": "guess"}):
        refused = quality_client.post(url, unsigned, format="json")
        assert refused.status_code == 403 and refused["Content-Type"].startswith(PROBLEM)
        assert refused.json()["code"] == "signature_refused" and "signature_password" in _field_errors(refused)
    ncr.refresh_from_db()
    assert ncr.status == "open"
    assert Lot.objects.get(pk=failed_lot.pk).status == "on_hold"
    assert not StockMove.objects.filter(kind="scrap").exists() and not ElectronicSignature.objects.exists()


def test_quality_opens_an_ncr_by_hand_and_closes_a_rework(quality_client, displays, receiving):
    lot = receive_lot(displays, receiving, code="L-7", quantity=40)
    response = quality_client.post(
        "/api/v1/nonconformances/", {"lot": lot.pk, "quantity": "4", "description": "Bezel scratches"}, format="json"
    )
    assert response.status_code == 201, response.content
    ncr_id = response.json()["id"]
    assert Lot.objects.get(pk=lot.pk).status == "on_hold"

    rework = quality_client.post(
        f"/api/v1/nonconformances/{ncr_id}/disposition/", {"disposition": "rework", "signature_password": PASSWORD}, format="json"
    )
    assert rework.json()["status"] == "dispositioned"
    unsigned = quality_client.post(f"/api/v1/nonconformances/{ncr_id}/close/", {"note": "Polished"}, format="json")
    assert unsigned.status_code == 403 and "signature_password" in _field_errors(unsigned)
    assert Lot.objects.get(pk=lot.pk).status == "on_hold"
    closed = quality_client.post(
        f"/api/v1/nonconformances/{ncr_id}/close/", {"note": "Polished", "signature_password": PASSWORD}, format="json"
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert [s["meaning"] for s in closed.json()["signatures"]] == ["Dispositioned: rework", "Closed: rework done, holds released"]
    assert Lot.objects.get(pk=lot.pk).status == "available"

    blank = quality_client.post("/api/v1/nonconformances/", {"lot": lot.pk, "description": ""}, format="json")
    assert blank.status_code == 400 and "description" in _field_errors(blank)


# --- SPC ---------------------------------------------------------------------------------------


def test_the_control_chart_shows_points_limits_rules_and_capability(operator_client, displays, inspector):
    plan = services.inspection_plan_create(
        data={
            "item": displays,
            "name": "Thickness",
            "trigger": "receipt",
            "aql": "1.0",
            "characteristics": [
                {"name": "Thickness", "kind": "variable", "lsl": Decimal("9"), "usl": Decimal("11"), "chart_type": "xbar_r", "subgroup_size": 4}
            ],
        }
    )
    thickness = plan.characteristics.get()
    subgroups = [
        ["10.0", "10.1", "9.9", "10.2"],
        ["9.8", "10.0", "10.1", "10.0"],
        ["10.2", "10.1", "9.9", "10.0"],
        ["9.9", "10.0", "10.0", "10.1"],
        ["10.1", "9.8", "10.0", "10.2"],
        ["10.0", "10.0", "9.9", "10.1"],
    ]
    for group in subgroups:
        inspection = services.inspection_create(plan=plan, lot_size=200, user=inspector)
        services.measurements_record(
            inspection=inspection,
            measurements=[{"characteristic": thickness.pk, "sample_index": i, "value": v} for i, v in enumerate(group, 1)],
            user=inspector,
        )

    response = operator_client.get(f"/api/v1/spc/{thickness.pk}/")

    assert response.status_code == 200, response.content
    body = response.json()
    data = [[float(v) for v in group] for group in subgroups]
    chart = xbar_r_chart(data)
    expected = capability(data, lsl=9.0, usl=11.0, sigma_within=chart.sigma)
    assert (body["chart_type"], body["subgroup_size"], len(body["points"])) == ("xbar_r", 4, 6)
    assert body["centre_line"] == pytest.approx(chart.location.centre)
    assert body["upper_control_limit"] == pytest.approx(chart.location.ucl)
    assert body["lower_control_limit"] == pytest.approx(chart.location.lcl)
    assert body["spread_chart"]["upper_control_limit"] == pytest.approx(chart.spread.ucl)
    assert body["cpk"] == pytest.approx(expected.cpk) and body["ppk"] == pytest.approx(expected.ppk)
    assert body["points"][0]["spread"] == pytest.approx(0.3)
    assert body["violations"] == []

    few = operator_client.get(f"/api/v1/spc/{thickness.pk}/?points=3").json()
    assert [p["index"] for p in few["points"]] == [0, 1, 2]
    assert few["points"][0]["measurement_ids"] == body["points"][3]["measurement_ids"]


def test_the_chart_of_an_attribute_is_not_found(operator_client, receipt_plan):
    _, cosmetic = characteristics(receipt_plan)
    response = operator_client.get(f"/api/v1/spc/{cosmetic.pk}/")
    assert response.status_code == 404 and response["Content-Type"].startswith(PROBLEM)
    bad = operator_client.get(f"/api/v1/spc/{characteristics(receipt_plan)[0].pk}/?points=1")
    assert bad.status_code == 400 and "points" in _field_errors(bad)


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
