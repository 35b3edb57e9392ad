"""A production report's body is validated field by field with the input serializer's own
fields on the usual path, and by the serializer otherwise: the same values, or the same errors."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from orders.api.report_serializers import ProductionReportInputSerializer, report_input

codes = st.one_of(st.text(max_size=70), st.integers(-5, 10**6), st.none(), st.booleans(), st.just("  LOT-1 "), st.just(""))
quantities = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=4).map(str),
    st.integers(-10, 10**16),
    st.sampled_from(["1", "0", "-1", "1.0005", "12345678901234567.5", "abc", "", " 2 ", "1e3"]),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
consumed_rows = st.fixed_dictionaries(
    {},
    optional={
        "item": st.one_of(st.integers(-2, 10**12), st.sampled_from(["7", "x", "", "3.0"]), st.none(), st.booleans()),
        "lot": codes,
        "serial": codes,
        "quantity": quantities,
        "produced_serial": codes,
        "unknown": st.integers(),
    },
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "quantity_good": quantities,
        "quantity_scrap": quantities,
        "scrap_reason": codes,
        "consumed": st.one_of(st.lists(st.one_of(consumed_rows, st.integers(), st.none()), max_size=4), st.none(), st.text(max_size=3)),
        "produced_serials": st.one_of(st.lists(codes, max_size=3), st.none(), st.text(max_size=3)),
        "scrapped_serials": st.one_of(st.lists(codes, max_size=3), st.none()),
        "produced_lot_code": codes,
        "labor_minutes": quantities,
        "recorded_at": st.one_of(
            st.datetimes(timezones=st.just(dt.timezone(dt.timedelta(hours=1)))).map(dt.datetime.isoformat),
            st.sampled_from(["2026-11-25T09:30:00+01:00", "2026-11-25T09:30:00Z", "2026-11-25 09:30", "yesterday", ""]),
            st.none(),
        ),
    },
)


def _through_serializer(data):
    body = ProductionReportInputSerializer(data=data)
    if body.is_valid():
        return "valid", body.validated_data
    return "invalid", body.errors


def _fast(data):
    try:
        return "valid", report_input(data)
    except serializers.ValidationError as exc:
        return "invalid", exc.detail


@settings(max_examples=400, deadline=None, derandomize=True)
@given(bodies)
def test_any_body_gives_what_the_serializer_gives(data):
    expected, got = _through_serializer(data), _fast(data)
    assert got[0] == expected[0]
    if expected[0] == "valid":
        assert dict(got[1]) == dict(expected[1])
        assert [dict(row) for row in got[1]["consumed"]] == [dict(row) for row in expected[1]["consumed"]]
    else:
        assert got[1] == expected[1]


@pytest.mark.parametrize(
    "data",
    [
        {"quantity_good": "1", "consumed": [{"item": 2, "lot": "L-1"}, {"item": 3, "serial": " S-9 ", "quantity": "1"}], "produced_serials": ["SN-1"]},
        {"quantity_good": 2, "quantity_scrap": "1", "scrap_reason": "SOLDER", "labor_minutes": "12.5", "recorded_at": "2026-11-25T09:30:00+01:00"},
        {"quantity_good": "1", "consumed": [{"item": "x"}]},
        {"quantity_good": "-1"},
        {},
    ],
)
def test_a_tablets_bodies_give_what_the_serializer_gives(data):
    expected, got = _through_serializer(data), _fast(data)
    assert got[0] == expected[0]
    assert (dict(got[1]) if got[0] == "valid" else got[1]) == (dict(expected[1]) if expected[0] == "valid" else expected[1])


def test_a_usual_body_is_validated_without_building_the_serializer(monkeypatch):
    import orders.api.report_serializers as module

    def refuse(*args, **kwargs):
        raise AssertionError("the serializer was built")

    monkeypatch.setattr(module, "ProductionReportInputSerializer", refuse)
    values = report_input({"quantity_good": "1", "consumed": [{"item": 2, "lot": " L-1 "}], "produced_serials": ["SN-1"]})
    assert values["quantity_good"] == 1 and str(values["quantity_good"]) == "1.000"
    assert values["consumed"] == [{"item": 2, "lot": "L-1"}]
    assert values["scrapped_serials"] == [] and "scrap_reason" not in values
