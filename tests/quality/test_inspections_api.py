"""Inspections over the API: opened by hand, measured by operators and decided, read and filtered
by planners; bounded queries of the quality lists."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Lot
from quality import services
from quality.models import (
    Inspection,
    Measurement,
    Nonconformance,
)
from tests.quality.conftest import PROBLEM, characteristics, field_errors, receive_lot

pytestmark = pytest.mark.django_db


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
    assert field_errors(response) == {"operation": "operation_not_found"}


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
    assert field in field_errors(response)
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
