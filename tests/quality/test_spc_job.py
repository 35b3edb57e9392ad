"""The SPC job: new points judged once against the Western Electric rules, a signal and an event
per violation, and — when the plan says so — the material since the last good point held."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from inventory import services as inventory
from inventory.models import Item, Lot
from mes.models import Event
from quality import services
from quality.models import Characteristic, Inspection, Nonconformance, SpcSignal
from quality.selectors import spc_series
from tests.factories import ItemFactory, LocationFactory

STEADY = ["10.05", "9.95"]


def _plan(*, hold: bool, chart: str = "imr", subgroup_size: int = 5):
    boards = ItemFactory(code="BOARD", tracking=Item.Tracking.LOT, kind="manufactured")
    plan = services.inspection_plan_create(
        data={
            "item": boards,
            "name": "Board thickness",
            "trigger": "operation",
            "routing_operation_sequence": 10,
            "aql": "1.0",
            "hold_on_spc_violation": hold,
            "characteristics": [
                {"name": "Thickness", "kind": "variable", "nominal": Decimal("10"), "lsl": Decimal("8"),
                 "usl": Decimal("12"), "unit": "mm", "chart_type": chart, "subgroup_size": subgroup_size},
            ],
        }
    )
    return plan, plan.characteristics.get()


def _lot_measured(plan, characteristic, location, user, *, code: str, values: list[str]) -> Lot:
    """Produce a lot of 50 and record ``values`` as the first sampled units of its inspection."""
    inventory.produce(item=plan.item, location=location, quantity=50, lot_code=code, user=user)
    lot = Lot.objects.get(item=plan.item, code=code)
    inspection = services.inspection_create(plan=plan, lot=lot, user=user)
    services.measurements_record(
        inspection=inspection,
        measurements=[{"characteristic": characteristic.pk, "sample_index": i, "value": v} for i, v in enumerate(values, 1)],
        user=user,
    )
    return lot


@pytest.mark.django_db
def test_a_rule_violation_holds_the_lots_since_the_last_good_point(make_user):
    user = make_user("quality")
    line = LocationFactory(code="LINE")
    plan, thickness = _plan(hold=True)
    # Given 20 lots measured steadily around 10 mm (alternating, so no rule is broken)
    lots = [_lot_measured(plan, thickness, line, user, code=f"B{n:02d}", values=[STEADY[n % 2]]) for n in range(20)]
    assert services.spc_evaluate(characteristic=thickness) == []

    # When a lot measures far above the centre (still in spec), another follows, and one more is made
    outlier = _lot_measured(plan, thickness, line, user, code="B20", values=["11.5"])
    after = _lot_measured(plan, thickness, line, user, code="B21", values=["10.05"])
    inventory.produce(item=plan.item, location=line, quantity=50, lot_code="B22", user=user)
    signals = services.spc_evaluate(characteristic=thickness)

    # Then rule 1 fires at the outlier, an event says so, and everything since the last good point is held
    assert [(s.rule, s.point_index) for s in signals] == [(1, 20)]
    event = Event.objects.get(type="spc.violation")
    assert (event.payload["rule"], event.payload["characteristic"]) == (1, thickness.pk)
    ncr = Nonconformance.objects.get(spc_signal=signals[0])
    held = set(ncr.holds.values_list("lot__code", flat=True))
    assert held == {"B20", "B21", "B22"}
    assert Lot.objects.get(pk=outlier.pk).status == Lot.Status.ON_HOLD
    assert Lot.objects.get(pk=after.pk).status == Lot.Status.ON_HOLD
    assert Lot.objects.get(pk=lots[-1].pk).status == Lot.Status.AVAILABLE
    assert ncr.quantity == 150

    # Evaluating again finds nothing new and holds nothing twice
    assert services.spc_evaluate(characteristic=thickness) == []
    assert Nonconformance.objects.count() == 1 and SpcSignal.objects.count() == 1


@pytest.mark.django_db
def test_without_hold_on_spc_violation_a_signal_holds_nothing(make_user):
    user = make_user("quality")
    line = LocationFactory(code="LINE")
    plan, thickness = _plan(hold=False)
    for n in range(12):
        _lot_measured(plan, thickness, line, user, code=f"B{n:02d}", values=[STEADY[n % 2]])
    assert services.spc_evaluate(characteristic=thickness) == []
    outlier = _lot_measured(plan, thickness, line, user, code="B12", values=["11.5"])

    signals = services.spc_evaluate(characteristic=thickness)

    assert [s.rule for s in signals] == [1]
    assert not Nonconformance.objects.exists()
    assert Lot.objects.get(pk=outlier.pk).status == Lot.Status.AVAILABLE


@pytest.mark.django_db
def test_the_job_runs_when_the_measurements_commit(make_user, django_capture_on_commit_callbacks):
    user = make_user("operator")
    line = LocationFactory(code="LINE")
    plan, thickness = _plan(hold=True)
    for n in range(10):
        _lot_measured(plan, thickness, line, user, code=f"B{n:02d}", values=[STEADY[n % 2]])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outlier = _lot_measured(plan, thickness, line, user, code="B10", values=["11.5"])

    assert len(callbacks) >= 1
    assert SpcSignal.objects.filter(characteristic=thickness, rule=1).exists()
    assert Lot.objects.get(pk=outlier.pk).status == Lot.Status.ON_HOLD
    thickness.refresh_from_db()
    assert thickness.spc_evaluated_through == outlier.inspections.get().measurements.get().pk


@pytest.mark.django_db
def test_subgroups_stay_the_same_as_measurements_arrive(make_user):
    user = make_user("quality")
    line = LocationFactory(code="LINE")
    plan, thickness = _plan(hold=False, chart="xbar_r", subgroup_size=4)
    _lot_measured(plan, thickness, line, user, code="A", values=["10.1", "9.9", "10.0", "10.2", "9.8", "10.0"])
    first = spc_series(characteristic=thickness)
    assert first.chart is None and [p.values for p in first.points] == [[10.1, 9.9, 10.0, 10.2]]

    _lot_measured(plan, thickness, line, user, code="B", values=["10.3", "9.7", "10.0"])
    second = spc_series(characteristic=thickness)

    assert [p.values for p in second.points] == [[10.1, 9.9, 10.0, 10.2], [9.8, 10.0, 10.3, 9.7]]
    assert second.points[1].inspection_ids == sorted(Inspection.objects.values_list("pk", flat=True))
    assert second.chart.kind == "xbar-r"


def _wait_for(condition, *, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_worker_evaluates_the_chart_and_holds_the_lot(make_user):
    user = make_user("quality")
    line = LocationFactory(code="LINE")
    plan, thickness = _plan(hold=True)
    for n in range(10):
        _lot_measured(plan, thickness, line, user, code=f"B{n:02d}", values=[STEADY[n % 2]])
    outlier = _lot_measured(plan, thickness, line, user, code="B10", values=["11.5"])

    assert _wait_for(lambda: Lot.objects.get(pk=outlier.pk).status == Lot.Status.ON_HOLD)
    assert SpcSignal.objects.filter(characteristic=thickness, rule=1).count() == 1
    assert Nonconformance.objects.filter(spc_signal__characteristic=thickness).count() == 1


def test_characteristic_chart_choices_are_the_two_charts():
    assert set(Characteristic.Chart.values) == {"xbar_r", "imr"}
