"""Inspections: opened by hand or by a trigger on the material they judge, then measured.

Each recorded measurement is checked by ``quality.services.measurements`` and the inspection is
decided, and the switching rules advanced, by ``quality.services.decisions``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.utils import timezone

from inventory.models import Location, Lot, SerialNumber
from inventory.selectors import on_hand
from mes.events import record_event
from quality import errors
from quality.models import (
    Inspection,
    InspectionPlan,
    InspectionStatus,
    Measurement,
    Source,
)
from quality.sampling import Severity, sampling_plan
from quality.services._common import actor, whole_units
from quality.services.decisions import inspection_decide, inspection_payload
from quality.services.measurements import measurement_from_row
from quality.services.plans import sampling_state_for


def _check_material(plan: InspectionPlan, *, lot, serial, serials: list[SerialNumber]) -> None:
    if lot is not None and serial is not None:
        raise errors.invalid("Inspect a lot or a serial number, not both.", field="serial", code=errors.LOT_OR_SERIAL)
    for name, row in (("lot", lot), ("serial", serial)):
        if row is not None and row.item_id != plan.item_id:
            raise errors.invalid(
                f"{name.capitalize()} {row.code} is not of {plan.item.code}, the item of plan '{plan}'.",
                field=name,
                code=errors.WRONG_ITEM,
            )
    wrong = [s.code for s in serials if s.item_id != plan.item_id]
    if wrong:
        raise errors.invalid(
            f"Serial(s) {', '.join(wrong)} are not of {plan.item.code}.", field="serials", code=errors.WRONG_ITEM
        )


def _lot_size(*, plan: InspectionPlan, lot_size, lot, serial, serials, location) -> int:
    if lot_size is not None:
        if isinstance(lot_size, bool) or not isinstance(lot_size, int) or lot_size < 1:
            raise errors.invalid("The lot size is a whole number of at least 1.", field="lot_size", code="invalid")
        return lot_size
    if serial is not None:
        return 1
    if serials:
        return len(serials)
    if lot is not None or location is not None:
        size = whole_units(on_hand(item=plan.item_id, lot=lot, location=location))
        if size >= 1:
            return size
    raise errors.invalid(
        "Give the lot size: the number of units the inspection judges.", field="lot_size", code=errors.LOT_SIZE_REQUIRED
    )


def _operation_refs(operation_id, work_order_id) -> tuple[int | None, int | None]:
    if operation_id is None:
        return None, work_order_id
    from orders.models import WorkOrderOperation

    found = WorkOrderOperation.objects.filter(pk=operation_id).values_list("work_order_id", flat=True).first()
    if found is None:
        raise errors.invalid(
            f"Work order operation {operation_id} does not exist.", field="operation", code=errors.OPERATION_NOT_FOUND
        )
    return operation_id, found


@transaction.atomic
def inspection_create(
    *,
    plan: InspectionPlan,
    lot: Lot | None = None,
    serial: SerialNumber | None = None,
    serials: Iterable[SerialNumber] = (),
    lot_size: int | None = None,
    location: Location | None = None,
    work_order_id: int | None = None,
    operation_id: int | None = None,
    source: str = Source.MANUAL,
    source_document: str = "",
    reference: str = "",
    is_resubmission: bool = False,
    check_operation: bool = True,
    user=None,
) -> Inspection:
    """Open an inspection of a lot, a serial, a batch of serials or an operation's output.

    The single sampling plan (code letter, sample size, Ac, Re) comes from the lot size, the
    plan's AQL and inspection level, and the severity the switching rules are on for the item.
    Without ``lot_size`` it is the lot's stock (at ``location`` when given), 1 for a serial, or the
    number of serials.
    """
    plan = InspectionPlan.objects.select_related("item").get(pk=plan.pk)
    if not plan.is_active:
        raise errors.ApplicationError(f"Plan '{plan}' is not active.", code=errors.PLAN_INACTIVE, field="plan")
    if not plan.characteristics.exists():
        raise errors.ApplicationError(
            f"Plan '{plan}' has no characteristics to inspect.", code=errors.PLAN_HAS_NO_CHARACTERISTICS, field="plan"
        )
    serials = list(serials)
    _check_material(plan, lot=lot, serial=serial, serials=serials)
    size = _lot_size(plan=plan, lot_size=lot_size, lot=lot, serial=serial, serials=serials, location=location)
    if check_operation:
        operation_id, work_order_id = _operation_refs(operation_id, work_order_id)
    state = sampling_state_for(plan=plan)
    if state.discontinued:
        raise errors.InspectionDiscontinued(plan=plan)
    chosen = sampling_plan(
        lot_size=size, inspection_level=plan.inspection_level, aql=plan.aql, severity=Severity(state.severity)
    )
    inspection = Inspection.objects.create(
        plan=plan,
        item=plan.item,
        source=source,
        lot=lot,
        serial=serial,
        location=location,
        work_order_id=work_order_id,
        operation_id=operation_id,
        source_document=source_document or "",
        reference=reference or "",
        lot_size=size,
        aql=plan.aql,
        inspection_level=plan.inspection_level,
        severity=chosen.severity.value,
        code_letter=chosen.code_letter,
        sample_size=chosen.sample_size,
        acceptance_number=chosen.acceptance_number,
        rejection_number=chosen.rejection_number,
        full_inspection=chosen.full_inspection,
        is_resubmission=is_resubmission,
        created_by=actor(user),
    )
    if serials:
        inspection.serials.set(serials)
    record_event(
        type="inspection.created",
        aggregate_type="inspection",
        aggregate_id=inspection.pk,
        payload={
            **inspection_payload(inspection),
            "serials": [s.pk for s in serials],
        },
        actor=user,
    )
    return inspection


@transaction.atomic
def measurements_record(*, inspection: Inspection, measurements: Iterable[dict], user) -> Inspection:
    """Record results per characteristic and sampled unit, then decide the inspection.

    A unit is nonconforming when any of its characteristics is out of specification. The
    inspection fails as soon as the nonconforming units reach Re, and passes when every unit of
    the sample has every characteristic measured with at most Ac nonconforming. A decision
    updates the switching state; a failure holds the material and opens a nonconformance.
    """
    inspection = (
        Inspection.objects.select_for_update(of=("self",)).select_related("plan", "plan__item").get(pk=inspection.pk)
    )
    if inspection.status != InspectionStatus.OPEN:
        raise errors.InspectionNotOpen(inspection=inspection)
    rows = list(measurements)
    if not rows:
        raise errors.invalid("Give at least one measurement.", field="measurements", code=errors.NO_MEASUREMENTS)
    characteristics = {c.pk: c for c in inspection.plan.characteristics.all()}
    recorded = set(Measurement.objects.filter(inspection=inspection).values_list("characteristic_id", "sample_index"))
    seen: set[tuple[int, int]] = set()
    now = timezone.now()
    new: list[Measurement] = []
    for index, row in enumerate(rows):
        measurement, characteristic = measurement_from_row(index, row, inspection=inspection, characteristics=characteristics)
        key = (characteristic.pk, measurement.sample_index)
        if key in seen:
            raise errors.invalid(
                f"'{characteristic.name}' of unit {measurement.sample_index} is listed twice.",
                field=f"measurements.{index}.sample_index",
                code=errors.DUPLICATE_MEASUREMENT,
            )
        if key in recorded:
            raise errors.ApplicationError(
                f"'{characteristic.name}' of unit {measurement.sample_index} is already recorded.",
                code=errors.MEASUREMENT_EXISTS,
                field=f"measurements.{index}.sample_index",
            )
        seen.add(key)
        measurement.recorded_by = actor(user)
        measurement.recorded_at = now
        new.append(measurement)
    Measurement.objects.bulk_create(new)
    inspection_decide(inspection, expected=inspection.sample_size * len(characteristics), user=user)
    variable = sorted({m.characteristic_id for m in new if characteristics[m.characteristic_id].kind == "variable"})
    for characteristic_id in variable:
        transaction.on_commit(partial(_queue_spc_evaluation, characteristic_id))
    return inspection


def _queue_spc_evaluation(characteristic_id: int) -> None:
    from quality.tasks import evaluate_spc

    evaluate_spc.delay(characteristic_id=characteristic_id)


def material_of(inspection: Inspection) -> dict:
    """The lot, serial, batch serials and location an inspection judged."""
    return {
        "item": inspection.item,
        "lot": inspection.lot,
        "serial": inspection.serial,
        "serials": list(inspection.serials.all()),
        "location": inspection.location,
    }

