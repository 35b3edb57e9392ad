"""Quality engineers and operators at the same moment, on PostgreSQL with real threads: the
switching state counts every lot, a nonconformance is dispositioned once, an inspection is
decided once."""

from __future__ import annotations

import pytest

from inventory.models import StockMove
from inventory.selectors import ledger_discrepancies
from mes.errors import ApplicationError
from quality import services
from quality.models import Inspection, Measurement, Nonconformance, SamplingState
from tests.concurrency import race
from tests.factories import PASSWORD
from tests.quality.conftest import characteristics, receive_lot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _failing(inspection, brightness, user):
    rows = [{"characteristic": brightness.pk, "sample_index": i, "value": "500"} for i in (1, 2)]
    return lambda: services.measurements_record(inspection=inspection, measurements=rows, user=user)


def test_lots_decided_at_once_are_all_counted_by_the_switching_rules(receipt_plan, displays, receiving, inspector):
    lots = [receive_lot(displays, receiving, code=f"L-{n}") for n in range(3)]
    brightness, _ = characteristics(receipt_plan)
    inspections = [Inspection.objects.get(lot=lot) for lot in lots]

    outcomes = race(*[_failing(inspection, brightness, inspector) for inspection in inspections])

    assert all(isinstance(outcome, Inspection) for outcome in outcomes), outcomes
    state = SamplingState.objects.get(plan=receipt_plan)
    assert state.lots_inspected == 3
    assert state.severity == "tightened"  # two (or more) of the last five not accepted
    assert Nonconformance.objects.count() == 3


def test_a_nonconformance_is_dispositioned_once(receipt_plan, displays, receiving, inspector):
    lot = receive_lot(displays, receiving, code="L-BAD")
    brightness, _ = characteristics(receipt_plan)
    _failing(Inspection.objects.get(lot=lot), brightness, inspector)()
    ncr = Nonconformance.objects.get()

    outcomes = race(
        *[lambda: services.nonconformance_disposition(ncr=ncr, disposition="scrap", user=inspector, signature_password=PASSWORD) for _ in range(2)]
    )

    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(refused) == 1 and refused[0].code == "invalid_transition", outcomes
    assert StockMove.objects.filter(kind="scrap").count() == 1
    assert ledger_discrepancies() == []


def test_the_same_unit_posted_by_two_tablets_is_recorded_once(receipt_plan, displays, receiving, inspector):
    lot = receive_lot(displays, receiving, code="L-1")
    inspection = Inspection.objects.get(lot=lot)
    brightness, _ = characteristics(receipt_plan)
    row = {"characteristic": brightness.pk, "sample_index": 1, "value": "600"}

    outcomes = race(
        *[lambda: services.measurements_record(inspection=inspection, measurements=[row], user=inspector) for _ in range(2)]
    )

    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(refused) == 1 and refused[0].code == "measurement_already_recorded", outcomes
    assert Measurement.objects.count() == 1
