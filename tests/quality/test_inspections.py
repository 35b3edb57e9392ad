"""Inspections through the services: triggers, the ISO 2859-1 plan used, measurements, the
pass/fail decision, holds and nonconformances on failure, and the switching rules over real lots."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from inventory import errors as inventory_errors
from inventory import services as inventory
from inventory.models import Hold, Item, Lot, SerialNumber
from mes.errors import ApplicationError, InvalidInput
from mes.events import record_event
from mes.models import Event
from quality import services
from quality.models import Inspection, InspectionStatus, Nonconformance, SamplingState
from tests.factories import ItemFactory
from tests.quality.conftest import characteristics, measure_all, receive_lot

pytestmark = pytest.mark.django_db


def test_a_receipt_opens_an_inspection_with_the_iso_2859_plan(receipt_plan, displays, receiving, inspector):
    lot = receive_lot(displays, receiving, code="L-1", quantity=500, user=inspector)

    inspection = Inspection.objects.get(plan=receipt_plan)
    # ISO 2859-1 Table 1: 281–500 at level II is H; Table 2-A: H at AQL 1.0 is n = 50, Ac 1, Re 2.
    assert (inspection.lot_id, inspection.source, inspection.lot_size) == (lot.pk, "receipt", 500)
    assert (inspection.code_letter, inspection.sample_size) == ("H", 50)
    assert (inspection.acceptance_number, inspection.rejection_number, inspection.severity) == (1, 2, "normal")
    assert inspection.location_id == receiving.pk
    assert inspection.status == InspectionStatus.OPEN
    assert Event.objects.filter(type="inspection.created", aggregate_id=str(inspection.pk)).exists()


def test_a_receipt_of_an_item_without_a_plan_opens_no_inspection(receipt_plan, receiving, inspector):
    other = ItemFactory(tracking=Item.Tracking.LOT)
    receive_lot(other, receiving, code="X-1", user=inspector)
    assert not Inspection.objects.exists()


def test_all_units_in_spec_pass_and_accept_the_lot(receipt_plan, displays, receiving, inspector):
    lot = receive_lot(displays, receiving, code="L-1")
    inspection = measure_all(Inspection.objects.get(), user=inspector, bad_units=[7])

    inspection.refresh_from_db()
    assert (inspection.status, inspection.disposition, inspection.nonconforming_count) == ("passed", "accepted", 1)
    assert inspection.decided_by == inspector and inspection.decided_at is not None
    lot.refresh_from_db()
    assert lot.status == Lot.Status.AVAILABLE
    assert not Nonconformance.objects.exists()
    event = Event.objects.get(type="inspection.completed")
    assert event.payload["status"] == "passed" and event.payload["nonconforming"] == 1


def test_an_inspection_stays_open_until_every_unit_is_measured(receipt_plan, displays, receiving, inspector):
    receive_lot(displays, receiving, code="L-1")
    inspection = Inspection.objects.get()
    brightness, cosmetic = characteristics(receipt_plan)

    services.measurements_record(
        inspection=inspection,
        measurements=[{"characteristic": brightness.pk, "sample_index": i, "value": "600.5"} for i in range(1, 51)],
        user=inspector,
    )
    inspection.refresh_from_db()
    assert inspection.status == "open"
    assert inspection.measurements.count() == 50


def test_a_unit_is_nonconforming_once_whatever_fails_on_it(receipt_plan, displays, receiving, inspector):
    receive_lot(displays, receiving, code="L-1")
    inspection = Inspection.objects.get()
    brightness, cosmetic = characteristics(receipt_plan)

    services.measurements_record(
        inspection=inspection,
        measurements=[
            {"characteristic": brightness.pk, "sample_index": 4, "value": "700"},
            {"characteristic": cosmetic.pk, "sample_index": 4, "passed": False},
        ],
        user=inspector,
    )
    inspection.refresh_from_db()
    assert (inspection.status, inspection.nonconforming_count) == ("open", 1)


def test_a_failed_receipt_inspection_holds_the_lot_so_it_cannot_be_issued(receipt_plan, displays, receiving, inspector):
    lot = receive_lot(displays, receiving, code="L-BAD")
    inspection = Inspection.objects.get()
    brightness, _ = characteristics(receipt_plan)

    # Re is 2: the second nonconforming unit decides, before the sample is complete.
    services.measurements_record(
        inspection=inspection,
        measurements=[
            {"characteristic": brightness.pk, "sample_index": 1, "value": "520"},
            {"characteristic": brightness.pk, "sample_index": 2, "value": "660"},
        ],
        user=inspector,
    )

    inspection.refresh_from_db()
    assert (inspection.status, inspection.disposition, inspection.nonconforming_count) == ("failed", "rejected", 2)
    lot.refresh_from_db()
    assert lot.status == Lot.Status.ON_HOLD
    ncr = Nonconformance.objects.get(inspection=inspection)
    assert (ncr.lot_id, ncr.quantity, ncr.status) == (lot.pk, Decimal("500.000"), "open")
    hold = ncr.holds.get()
    assert (hold.lot_id, hold.status, hold.source_type, hold.source_id) == (lot.pk, "active", "nonconformance", ncr.pk)
    assert set(Event.objects.values_list("type", flat=True)) >= {
        "inspection.completed",
        "nonconformance.opened",
        "lot.held",
    }

    with pytest.raises(inventory_errors.LotOnHold) as refused:
        inventory.issue(item=displays, location=receiving, quantity=10, lot=lot, user=inspector)
    assert refused.value.status == 409 and refused.value.code == "lot_on_hold"


def test_a_failed_inspection_of_received_serials_holds_each_serial(receiving, inspector):
    phones = ItemFactory(code="DSP-S", tracking=Item.Tracking.SERIAL)
    plan = services.inspection_plan_create(
        data={
            "item": phones,
            "name": "Incoming",
            "trigger": "receipt",
            "aql": "1.0",
            "characteristics": [{"name": "Visual", "kind": "attribute"}],
        }
    )
    codes = [f"S{n:03d}" for n in range(1, 21)]
    inventory.receive(item=phones, location=receiving, quantity=20, serial_codes=codes, user=inspector)
    inspection = Inspection.objects.get(plan=plan)
    assert inspection.serials.count() == 20 and inspection.lot_size == 20
    visual = plan.characteristics.get()

    services.measurements_record(
        inspection=inspection, measurements=[{"characteristic": visual, "sample_index": 1, "passed": False}], user=inspector
    )

    assert set(SerialNumber.objects.filter(item=phones).values_list("status", flat=True)) == {"on_hold"}
    ncr = Nonconformance.objects.get()
    assert ncr.holds.count() == 20 and ncr.quantity == 20
    with pytest.raises(inventory_errors.SerialOnHold):
        inventory.issue(item=phones, location=receiving, quantity=1, serials=["S005"], user=inspector)


@pytest.mark.parametrize(
    ("row", "field", "code", "status"),
    [
        ({"characteristic": 999999, "sample_index": 1, "value": "600"}, "measurements.0.characteristic", "characteristic_not_in_plan", 400),
        ({"characteristic": "brightness", "sample_index": 0, "value": "600"}, "measurements.0.sample_index", "sample_index_out_of_range", 400),
        ({"characteristic": "brightness", "sample_index": 51, "value": "600"}, "measurements.0.sample_index", "sample_index_out_of_range", 400),
        ({"characteristic": "brightness", "sample_index": 1}, "measurements.0.value", "value_required", 400),
        ({"characteristic": "brightness", "sample_index": 1, "value": "600", "passed": True}, "measurements.0.passed", "unexpected", 400),
        ({"characteristic": "cosmetic", "sample_index": 1}, "measurements.0.passed", "passed_required", 400),
        ({"characteristic": "cosmetic", "sample_index": 1, "value": "1"}, "measurements.0.passed", "passed_required", 400),
        ({"characteristic": "brightness", "sample_index": 1, "value": "bright"}, "measurements.0.value", "invalid", 400),
    ],
)
def test_measurements_are_refused_naming_the_field(receipt_plan, displays, receiving, inspector, row, field, code, status):
    receive_lot(displays, receiving, code="L-1")
    inspection = Inspection.objects.get()
    brightness, cosmetic = characteristics(receipt_plan)
    row = {**row, "characteristic": {"brightness": brightness.pk, "cosmetic": cosmetic.pk}.get(row["characteristic"], row["characteristic"])}

    with pytest.raises(ApplicationError) as refused:
        services.measurements_record(inspection=inspection, measurements=[row], user=inspector)

    assert (refused.value.status, refused.value.field, refused.value.code) == (status, field, code)
    assert not inspection.measurements.exists()


def test_a_measurement_is_recorded_once(receipt_plan, displays, receiving, inspector):
    receive_lot(displays, receiving, code="L-1")
    inspection = Inspection.objects.get()
    brightness, _ = characteristics(receipt_plan)
    row = {"characteristic": brightness.pk, "sample_index": 3, "value": "600"}
    services.measurements_record(inspection=inspection, measurements=[row], user=inspector)

    with pytest.raises(ApplicationError) as twice_in_one:
        services.measurements_record(inspection=inspection, measurements=[{**row, "sample_index": 4}, {**row, "sample_index": 4}], user=inspector)
    with pytest.raises(ApplicationError) as again:
        services.measurements_record(inspection=inspection, measurements=[row], user=inspector)

    assert (twice_in_one.value.status, twice_in_one.value.code) == (400, "duplicate_measurement")
    assert (again.value.status, again.value.code, again.value.field) == (409, "measurement_already_recorded", "measurements.0.sample_index")
    assert inspection.measurements.count() == 1


def test_a_decided_inspection_takes_no_more_measurements(receipt_plan, displays, receiving, inspector):
    receive_lot(displays, receiving, code="L-1")
    inspection = measure_all(Inspection.objects.get(), user=inspector)
    brightness, _ = characteristics(receipt_plan)

    with pytest.raises(ApplicationError) as refused:
        services.measurements_record(
            inspection=inspection, measurements=[{"characteristic": brightness.pk, "sample_index": 1, "value": "1"}], user=inspector
        )
    assert (refused.value.status, refused.value.code) == (409, "inspection_not_open")


def test_an_inspection_by_hand_takes_the_lot_size_from_stock(receipt_plan, displays, receiving, inspector):
    lot = receive_lot(displays, receiving, code="L-1", quantity=90)
    inspection = services.inspection_create(plan=receipt_plan, lot=lot, user=inspector)
    # 51–90 at level II is E: n = 13, Ac 0, Re 1 at AQL 1.0.
    assert (inspection.source, inspection.lot_size, inspection.code_letter, inspection.sample_size) == ("manual", 90, "E", 13)
    assert inspection.created_by == inspector


def test_an_inspection_by_hand_refuses_material_of_another_item(receipt_plan, receiving, inspector):
    other = ItemFactory(tracking=Item.Tracking.LOT)
    lot = receive_lot(other, receiving, code="O-1")
    with pytest.raises(InvalidInput) as refused:
        services.inspection_create(plan=receipt_plan, lot=lot, user=inspector)
    assert (refused.value.field, refused.value.code) == ("lot", "wrong_item")
    with pytest.raises(InvalidInput) as no_size:
        services.inspection_create(plan=receipt_plan, user=inspector)
    assert (no_size.value.field, no_size.value.code) == ("lot_size", "lot_size_required")


def _lot_result(plan, item, location, user, *, code: str, accept: bool) -> Inspection:
    receive_lot(item, location, code=code, quantity=20)
    inspection = Inspection.objects.get(plan=plan, lot__code=code)
    visual = plan.characteristics.get()
    if accept:
        rows = [{"characteristic": visual.pk, "sample_index": i, "passed": True} for i in range(1, inspection.sample_size + 1)]
    else:
        rows = [{"characteristic": visual.pk, "sample_index": i, "passed": False} for i in range(1, inspection.rejection_number + 1)]
    inspection = services.measurements_record(inspection=inspection, measurements=rows, user=user)
    assert inspection.status == ("passed" if accept else "failed")
    return inspection


def test_switching_to_tightened_after_2_of_5_lots_rejected_and_back_after_5_accepted(receiving, inspector):
    chips = ItemFactory(code="CHIP", tracking=Item.Tracking.LOT)
    plan = services.inspection_plan_create(
        data={
            "item": chips,
            "name": "Incoming chips",
            "trigger": "receipt",
            "aql": "6.5",
            "inspection_level": "II",
            "characteristics": [{"name": "Visual", "kind": "attribute"}],
        }
    )
    # Given lots 1–5 on normal inspection, of which lots 2 and 5 are not accepted
    # (a lot of 20 at level II is C; Table 2-A at AQL 6.5 points down to D: n = 8, Ac 1, Re 2)
    results = [True, False, True, True, False]
    for number, accept in enumerate(results, start=1):
        inspection = _lot_result(plan, chips, receiving, inspector, code=f"N{number}", accept=accept)
        assert (inspection.severity, inspection.code_letter, inspection.sample_size) == ("normal", "D", 8)

    state = SamplingState.objects.get(plan=plan, item=chips)
    assert state.severity == "tightened"
    switched = Event.objects.get(type="sampling.switched")
    assert (switched.payload["from"], switched.payload["to"]) == ("normal", "tightened")

    # Then the next lots are inspected on tightened: Table 2-B at AQL 6.5 points C down to E,
    # n = 13, Ac 1, Re 2.
    for number in range(1, 6):
        inspection = _lot_result(plan, chips, receiving, inspector, code=f"T{number}", accept=True)
        assert (inspection.severity, inspection.code_letter, inspection.sample_size) == ("tightened", "E", 13)
        assert (inspection.acceptance_number, inspection.rejection_number) == (1, 2)

    # And after 5 consecutive accepted lots, back to normal.
    state.refresh_from_db()
    assert (state.severity, state.lots_inspected) == ("normal", 10)
    back = _lot_result(plan, chips, receiving, inspector, code="B1", accept=True)
    assert back.severity == "normal"


def test_two_rejections_six_lots_apart_stay_on_normal(receiving, inspector):
    chips = ItemFactory(code="CHIP", tracking=Item.Tracking.LOT)
    plan = services.inspection_plan_create(
        data={"item": chips, "name": "Chips", "trigger": "receipt", "aql": "6.5",
              "characteristics": [{"name": "Visual", "kind": "attribute"}]}
    )
    for number, accept in enumerate([False, True, True, True, True, False], start=1):
        _lot_result(plan, chips, receiving, inspector, code=f"N{number}", accept=accept)
    assert SamplingState.objects.get(plan=plan).severity == "normal"


def test_a_discontinued_plan_refuses_inspections_and_holds_receipts(receipt_plan, displays, receiving, inspector):
    SamplingState.objects.create(plan=receipt_plan, item=displays, severity="tightened", tightened_rejected_count=5, discontinued=True)

    with pytest.raises(ApplicationError) as refused:
        services.inspection_create(plan=receipt_plan, lot_size=100, user=inspector)
    assert (refused.value.status, refused.value.code) == (409, "inspection_discontinued")

    lot = receive_lot(displays, receiving, code="L-D")
    lot.refresh_from_db()
    assert lot.status == Lot.Status.ON_HOLD
    assert Hold.objects.get(lot=lot).source_type == "inspection_plan"
    assert not Inspection.objects.exists()

    state = services.sampling_resume(plan=receipt_plan, user=inspector, reason="Supplier replaced the coating line")
    assert (state.severity, state.discontinued) == ("tightened", False)
    assert services.inspection_create(plan=receipt_plan, lot=lot, user=inspector).severity == "tightened"


def test_a_production_report_on_the_planned_operation_opens_an_inspection(inspector):
    boards = ItemFactory(code="BOARD", tracking=Item.Tracking.LOT, kind="manufactured")
    plan = services.inspection_plan_create(
        data={
            "item": boards,
            "name": "After reflow",
            "trigger": "operation",
            "routing_operation_sequence": 20,
            "aql": "1.0",
            "characteristics": [{"name": "Solder joints", "kind": "attribute"}],
        }
    )
    lot = Lot.objects.create(item=boards, code="B-1")

    def report(sequence: int, report_id: int) -> None:
        with transaction.atomic():
            record_event(
                type="production.reported",
                aggregate_type="operation",
                aggregate_id=7,
                payload={
                    "report_id": report_id, "work_order_id": 3, "operation_id": 7, "operation_sequence": sequence,
                    "item_id": boards.pk, "quantity_good": "120.000", "quantity_scrap": "2.000",
                    "produced_lots": [{"id": lot.pk, "code": lot.code}], "produced_serials": [],
                },
                actor=inspector,
            )

    report(10, 1)
    assert not Inspection.objects.exists()
    report(20, 2)

    inspection = Inspection.objects.get(plan=plan)
    assert (inspection.source, inspection.lot_id, inspection.lot_size) == ("operation", lot.pk, 120)
    assert (inspection.work_order_id, inspection.operation_id, inspection.source_document) == (3, 7, "production_report:2")
    assert inspection.created_by == inspector


def test_a_completed_work_order_opens_a_final_inspection_of_its_serials(receiving, inspector):
    phones = ItemFactory(code="PHONE", tracking=Item.Tracking.SERIAL, kind="manufactured")
    plan = services.inspection_plan_create(
        data={
            "item": phones,
            "name": "Final test",
            "trigger": "final",
            "aql": "0.65",
            "characteristics": [{"name": "Current draw", "kind": "variable", "lsl": "100", "usl": "140", "unit": "mA"}],
        }
    )
    codes = [f"P{n:03d}" for n in range(1, 31)]
    inventory.produce(item=phones, location=receiving, quantity=30, serial_codes=codes, user=inspector)
    serials = list(SerialNumber.objects.filter(item=phones).order_by("pk"))
    with transaction.atomic():
        record_event(
            type="work_order.completed",
            aggregate_type="work_order",
            aggregate_id=9,
            payload={
                "work_order_id": 9, "item_id": phones.pk, "quantity": "30.000", "finished_lots": [],
                "finished_serials": [{"id": s.pk, "code": s.code} for s in serials],
            },
        )

    inspection = Inspection.objects.get(plan=plan)
    assert (inspection.source, inspection.lot_size, inspection.work_order_id) == ("final", 30, 9)
    assert inspection.serials.count() == 30
    # 26–50 at level II is D; Table 2-A, AQL 0.65 points down to F: n = 20 of the 30.
    assert (inspection.code_letter, inspection.sample_size, inspection.acceptance_number) == ("F", 20, 0)
