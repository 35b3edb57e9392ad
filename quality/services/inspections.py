"""Inspections: created by hand or by a trigger, measured, decided, and fed into the switching rules."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from inventory.models import Location, Lot, SerialNumber
from inventory.selectors import on_hand
from mes.errors import InvalidTransition
from mes.events import record_event
from quality import errors
from quality.models import (
    INSPECTION_TRANSITIONS,
    Characteristic,
    Inspection,
    InspectionDisposition,
    InspectionPlan,
    InspectionStatus,
    Measurement,
    SamplingState,
    Source,
)
from quality.models.plans import SPEC_DIGITS, SPEC_PLACES
from quality.sampling import (
    InspectionDiscontinued,
    SamplingPlan,
    Severity,
    SwitchingState,
    next_switching_state,
    record_lot_result,
    sampling_plan,
    tighter_acceptance_number,
)
from quality.services._common import actor, to_decimal, whole_units
from quality.services.plans import sampling_state_for

VALUE_QUANTUM = Decimal(1).scaleb(-SPEC_PLACES)
VALUE_LIMIT = Decimal(10) ** (SPEC_DIGITS - SPEC_PLACES)


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
            **_payload(inspection),
            "serials": [s.pk for s in serials],
        },
        actor=user,
    )
    return inspection


def _payload(inspection: Inspection) -> dict:
    return {
        "inspection": inspection.pk,
        "plan": inspection.plan_id,
        "item": inspection.item_id,
        "source": inspection.source,
        "lot": inspection.lot_id,
        "serial": inspection.serial_id,
        "work_order_id": inspection.work_order_id,
        "operation_id": inspection.operation_id,
        "lot_size": inspection.lot_size,
        "sample_size": inspection.sample_size,
        "code_letter": inspection.code_letter,
        "acceptance_number": inspection.acceptance_number,
        "rejection_number": inspection.rejection_number,
        "severity": inspection.severity,
        "status": inspection.status,
    }


def _measurement(
    index: int, row: dict, *, inspection: Inspection, characteristics: dict[int, Characteristic]
) -> tuple[Measurement, Characteristic]:
    def field(name: str) -> str:
        return f"measurements.{index}.{name}"

    reference = row.get("characteristic")
    characteristic_id = getattr(reference, "pk", reference)
    characteristic = characteristics.get(characteristic_id) if isinstance(characteristic_id, int) else None
    if characteristic is None:
        raise errors.invalid(
            f"Characteristic {characteristic_id!r} is not a characteristic of plan '{inspection.plan}'.",
            field=field("characteristic"),
            code=errors.CHARACTERISTIC_NOT_IN_PLAN,
            extra={"characteristics": sorted(characteristics)},
        )
    sample_index = row.get("sample_index")
    if isinstance(sample_index, bool) or not isinstance(sample_index, int) or not 1 <= sample_index <= inspection.sample_size:
        raise errors.invalid(
            f"The sample index must be 1 to {inspection.sample_size} (the sample size), not {sample_index!r}.",
            field=field("sample_index"),
            code=errors.SAMPLE_INDEX_OUT_OF_RANGE,
        )
    value, passed = row.get("value"), row.get("passed")
    if characteristic.kind == Characteristic.Kind.VARIABLE:
        if value is None:
            raise errors.invalid(
                f"'{characteristic.name}' is measured: give its value.", field=field("value"), code=errors.VALUE_REQUIRED
            )
        if passed is not None:
            raise errors.invalid(
                f"'{characteristic.name}' is measured, not passed or failed: give a value only.",
                field=field("passed"),
                code="unexpected",
            )
        value = to_decimal(value, field=field("value"))
        if abs(value) >= VALUE_LIMIT:
            raise errors.invalid(f"The value {value} is too large.", field=field("value"), code="value_too_large")
        value = value.quantize(VALUE_QUANTUM, rounding=ROUND_HALF_UP)
    else:
        if not isinstance(passed, bool):
            raise errors.invalid(
                f"'{characteristic.name}' is an attribute: say whether the unit passed (true or false).",
                field=field("passed"),
                code=errors.PASSED_REQUIRED,
            )
        if value is not None:
            raise errors.invalid(
                f"'{characteristic.name}' is an attribute, not a measured value: give passed only.",
                field=field("value"),
                code="unexpected",
            )
    return (
        Measurement(
            inspection=inspection,
            characteristic=characteristic,
            sample_index=sample_index,
            value=value,
            passed=passed,
            in_spec=characteristic.conforms(value=value, passed=passed),
        ),
        characteristic,
    )


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
        measurement, characteristic = _measurement(index, row, inspection=inspection, characteristics=characteristics)
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
    _decide(inspection, expected=inspection.sample_size * len(characteristics), user=user)
    variable = sorted({m.characteristic_id for m in new if characteristics[m.characteristic_id].kind == "variable"})
    for characteristic_id in variable:
        transaction.on_commit(partial(_queue_spc_evaluation, characteristic_id))
    return inspection


def _queue_spc_evaluation(characteristic_id: int) -> None:
    from quality.tasks import evaluate_spc

    evaluate_spc.delay(characteristic_id=characteristic_id)


def _decide(inspection: Inspection, *, expected: int, user) -> None:
    stats = Measurement.objects.filter(inspection=inspection).aggregate(
        total=Count("id"), nonconforming=Count("sample_index", filter=Q(in_spec=False), distinct=True)
    )
    inspection.nonconforming_count = stats["nonconforming"]
    if inspection.nonconforming_count >= inspection.rejection_number:
        _complete(inspection, status=InspectionStatus.FAILED, user=user)
    elif stats["total"] >= expected:
        _complete(inspection, status=InspectionStatus.PASSED, user=user)
    else:
        inspection.save(update_fields=["nonconforming_count"])


def _complete(inspection: Inspection, *, status: str, user) -> None:
    if status not in INSPECTION_TRANSITIONS[inspection.status]:
        raise InvalidTransition(entity=f"Inspection #{inspection.pk}", current=inspection.status, target=status)
    inspection.status = status
    inspection.decided_at = timezone.now()
    inspection.decided_by = actor(user)
    inspection.disposition = (
        InspectionDisposition.ACCEPTED if status == InspectionStatus.PASSED else InspectionDisposition.REJECTED
    )
    inspection.save(update_fields=["status", "decided_at", "decided_by", "disposition", "nonconforming_count"])
    before, after = _advance_switching(inspection, user=user)
    record_event(
        type="inspection.completed",
        aggregate_type="inspection",
        aggregate_id=inspection.pk,
        payload={
            **_payload(inspection),
            "nonconforming": inspection.nonconforming_count,
            "serials": list(inspection.serials.values_list("pk", flat=True)),
            "severity_next": after,
        },
        actor=user,
    )
    if status == InspectionStatus.FAILED:
        from quality.services.nonconformances import nonconformance_open

        nonconformance_open(
            inspection=inspection,
            description=(
                f"Inspection #{inspection.pk} under plan '{inspection.plan}' failed: {inspection.nonconforming_count}"
                f" nonconforming of {inspection.sample_size} sampled (Re {inspection.rejection_number})."
            ),
            user=user,
        )


def _next_state(state: SwitchingState, inspection: Inspection, *, allow_reduced: bool) -> SwitchingState:
    plan: SamplingPlan = inspection.sampling_plan
    nonconforming = inspection.nonconforming_count
    original = not inspection.is_resubmission
    if plan.severity is state.severity:
        return record_lot_result(
            state, plan=plan, nonconforming=nonconforming, approved_by_authority=allow_reduced, original_inspection=original
        )
    # The lot was sampled before the scheme switched: its result counts on the current severity.
    accepted = plan.accepts(nonconforming)
    tighter = None
    if state.severity is Severity.NORMAL and plan.acceptance_number >= 2:
        tighter_ac = tighter_acceptance_number(code_letter=plan.code_letter, aql=plan.aql)
        tighter = accepted and tighter_ac is not None and nonconforming <= tighter_ac
    return next_switching_state(
        state,
        accepted=accepted,
        acceptance_number=plan.acceptance_number,
        accepted_at_tighter_aql=tighter,
        approved_by_authority=allow_reduced,
        original_inspection=original,
    )


def _advance_switching(inspection: Inspection, *, user) -> tuple[str, str]:
    state_row: SamplingState = sampling_state_for(plan=inspection.plan, item_id=inspection.item_id, lock=True)
    before = state_row.as_switching_state()
    state_row.lots_inspected += 1
    try:
        after = _next_state(before, inspection, allow_reduced=inspection.plan.reduced_inspection_allowed)
    except InspectionDiscontinued:
        after = before
    state_row.take(after)
    state_row.save()
    if after.severity is not before.severity or after.discontinued != before.discontinued:
        record_event(
            type="sampling.switched",
            aggregate_type="inspection_plan",
            aggregate_id=inspection.plan_id,
            payload={
                "plan": inspection.plan_id,
                "item": inspection.item_id,
                "from": before.severity.value,
                "to": after.severity.value,
                "discontinued": after.discontinued,
                "after_inspection": inspection.pk,
            },
            actor=user,
        )
    return before.severity.value, after.severity.value


def material_of(inspection: Inspection) -> dict:
    """The lot, serial, batch serials and location an inspection judged."""
    return {
        "item": inspection.item,
        "lot": inspection.lot,
        "serial": inspection.serial,
        "serials": list(inspection.serials.all()),
        "location": inspection.location,
    }

