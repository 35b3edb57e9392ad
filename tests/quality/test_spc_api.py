"""Control charts over the API: points, limits, rules and capability of a measured characteristic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quality import services
from quality.spc import capability, xbar_r_chart
from tests.quality.conftest import PROBLEM, characteristics, field_errors

pytestmark = pytest.mark.django_db


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
    assert bad.status_code == 400 and "points" in field_errors(bad)
