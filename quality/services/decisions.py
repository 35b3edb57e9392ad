"""Inspection decisions: passed or failed from the nonconforming units of the sample, the switching
rules (normal, tightened, reduced, discontinued) advanced for the item, and a nonconformance
opened for a failure."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from mes.errors import InvalidTransition
from mes.events import record_event
from quality.models import (
    INSPECTION_TRANSITIONS,
    Inspection,
    InspectionDisposition,
    InspectionStatus,
    Measurement,
    SamplingState,
)
from quality.sampling import (
    InspectionDiscontinued,
    SamplingPlan,
    Severity,
    SwitchingState,
    next_switching_state,
    record_lot_result,
    tighter_acceptance_number,
)
from quality.services._common import actor
from quality.services.plans import sampling_state_for


def inspection_payload(inspection: Inspection) -> dict:
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


def inspection_decide(inspection: Inspection, *, expected: int, user) -> None:
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
            **inspection_payload(inspection),
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
