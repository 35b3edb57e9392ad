"""The demo plant's quality data: plans for the incoming displays and the phone's final test,
two inspected shipments (one held under a nonconformance), charts with enough points; idempotent."""

import pytest
from django.db import transaction

from inventory import demo as inventory_demo
from quality import demo
from quality.models import Characteristic, Inspection, InspectionPlan, Measurement, Nonconformance
from quality.selectors import spc_chart

pytestmark = pytest.mark.django_db


def _load():
    with transaction.atomic():
        inventory_demo.load()
    with transaction.atomic():
        return demo.load()


def _counts():
    return (InspectionPlan.objects.count(), Characteristic.objects.count(), Inspection.objects.count(),
            Measurement.objects.count(), Nonconformance.objects.count())


def test_the_demo_has_plans_inspections_a_held_shipment_and_charts():
    _load()

    displays = InspectionPlan.objects.get(item__code="DSP-61")
    phones = InspectionPlan.objects.get(item__code="PHN-100")
    assert (displays.trigger, displays.aql, displays.inspection_level) == ("receipt", 1, "II")
    assert phones.trigger == "final"
    assert sorted(Inspection.objects.filter(plan=displays).values_list("status", flat=True)) == ["failed", "passed"]
    ncr = Nonconformance.objects.get()
    assert ncr.holds.count() == 50 and ncr.status == "open"
    current = phones.characteristics.get(name__startswith="Battery current")
    chart = spc_chart(characteristic=current)
    assert len(chart["points"]) >= 20 and chart["cpk"] is not None


def test_the_demo_loads_again_without_duplicating_anything():
    _load()
    before = _counts()
    _load()
    assert _counts() == before
