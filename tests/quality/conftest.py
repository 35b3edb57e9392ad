"""Fixtures of the quality tests: a receiving dock, a supplier location, a lot-tracked component
with a receipt plan (brightness and a visual check), and helpers to receive and measure."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory import services as inventory
from inventory.models import Item, Location
from quality import services
from quality.models import Characteristic, Inspection
from tests.factories import ItemFactory, LocationFactory

PROBLEM = "application/problem+json"


def field_errors(response) -> dict[str, str]:
    """The fields a problem document names, with their codes."""
    assert response["Content-Type"].startswith(PROBLEM), response.content
    return {error["field"]: error["code"] for error in response.json().get("errors", [])}


@pytest.fixture
def inspector(make_user):
    return make_user("quality", username="inspector")


@pytest.fixture
def receiving(db):
    return LocationFactory(code="RECV", purpose=Location.Purpose.RECEIVING)


@pytest.fixture
def stores(db):
    return LocationFactory(code="STORES")


@pytest.fixture
def supplier(db):
    return LocationFactory(code="SUPPLIER", purpose=Location.Purpose.SUPPLIER)


@pytest.fixture
def displays(db):
    return ItemFactory(code="DSP", tracking=Item.Tracking.LOT)


@pytest.fixture
def receipt_plan(displays):
    """AQL 1.0, level II: a lot of 500 is letter H, n = 50, Ac 1, Re 2 (normal)."""
    return services.inspection_plan_create(
        data={
            "item": displays,
            "name": "Incoming displays",
            "trigger": "receipt",
            "aql": "1.0",
            "inspection_level": "II",
            "characteristics": [
                {"name": "Brightness", "kind": "variable", "nominal": Decimal("600"), "lsl": Decimal("550"),
                 "usl": Decimal("650"), "unit": "nits"},
                {"name": "Cosmetic", "kind": "attribute"},
            ],
        }
    )


def characteristics(plan) -> tuple[Characteristic, Characteristic]:
    rows = list(plan.characteristics.order_by("position"))
    return rows[0], rows[1]


def receive_lot(item, location, *, code: str, quantity=500, user=None):
    inventory.receive(item=item, location=location, quantity=quantity, lot_code=code, user=user)
    return item.lots.get(code=code)


def measure_all(inspection: Inspection, *, user, bad_units=(), bad_value=Decimal("500")) -> Inspection:
    """Every characteristic of every sampled unit in spec, except ``bad_units`` (brightness low)."""
    rows = []
    for characteristic in inspection.plan.characteristics.order_by("position"):
        for index in range(1, inspection.sample_size + 1):
            if characteristic.kind == Characteristic.Kind.ATTRIBUTE:
                rows.append({"characteristic": characteristic.pk, "sample_index": index, "passed": True})
            else:
                value = bad_value if index in bad_units else characteristic.nominal
                rows.append({"characteristic": characteristic.pk, "sample_index": index, "value": value})
    return services.measurements_record(inspection=inspection, measurements=rows, user=user)
