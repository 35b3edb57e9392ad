"""Inspection plans with their characteristics, and the sampling scheme's state per item and plan."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from mes.events import record_event
from quality import errors
from quality.models import Characteristic, Inspection, InspectionPlan, SamplingState
from quality.sampling import (
    INSPECTION_LEVELS,
    Severity,
    normalise_aql,
    resume_inspection,
    sampling_plan,
)
from quality.sampling.tables import LOT_SIZE_RANGES
from quality.services._common import actor, validation_error_for

PLAN_FIELDS = (
    "item",
    "name",
    "revision",
    "description",
    "trigger",
    "routing_operation_sequence",
    "aql",
    "inspection_level",
    "reduced_inspection_allowed",
    "hold_on_spc_violation",
    "is_active",
)
CHARACTERISTIC_FIELDS = ("position", "name", "kind", "nominal", "lsl", "usl", "unit", "chart_type", "subgroup_size")
# Changing these on a characteristic that has measurements would change what those measurements mean.
MEANING_FIELDS = ("kind",)


def check_sampling(*, aql, inspection_level: str):
    """The AQL as its preferred value, refused (400) unless every lot size and severity has a plan."""
    try:
        preferred = normalise_aql(aql)
    except (TypeError, ValueError) as exc:
        raise errors.invalid(str(exc), field="aql", code=errors.INVALID_AQL) from None
    if inspection_level not in INSPECTION_LEVELS:
        raise errors.invalid(
            f"Inspection level {inspection_level!r} is not one of {', '.join(INSPECTION_LEVELS)}.",
            field="inspection_level",
            code="invalid_choice",
        )
    for low, _high, _letters in LOT_SIZE_RANGES:
        for severity in Severity:
            try:
                sampling_plan(lot_size=max(low, 2), inspection_level=inspection_level, aql=preferred, severity=severity)
            except ValueError as exc:
                raise errors.invalid(
                    f"ISO 2859-1 has no {severity} plan at AQL {preferred} for every lot size ({exc}).",
                    field="aql",
                    code=errors.INVALID_AQL,
                ) from None
    return preferred


def _apply_plan_fields(plan: InspectionPlan, data: dict[str, Any]) -> None:
    for name in PLAN_FIELDS:
        if name in data:
            setattr(plan, name, data[name])
    plan.aql = check_sampling(aql=plan.aql, inspection_level=plan.inspection_level)
    try:
        plan.full_clean(exclude=["item"] if plan.item_id else None)
    except ValidationError as exc:
        raise validation_error_for(exc) from None


def _characteristic_rows(plan: InspectionPlan, rows: list[dict[str, Any]]) -> list[tuple[Characteristic, dict]]:
    """Match the given rows to the plan's characteristics (by id, else by name); unsaved rows are new."""
    existing = {c.pk: c for c in plan.characteristics.all()} if plan.pk else {}
    by_name = {c.name: c for c in existing.values()}
    matched: list[tuple[Characteristic, dict]] = []
    names: set[str] = set()
    used: set[int] = set()
    for index, row in enumerate(rows):
        prefix = f"characteristics.{index}"
        pk = row.get("id")
        name = (row.get("name") or "").strip()
        if pk is not None:
            if pk not in existing:
                raise errors.invalid(
                    f"Characteristic {pk} is not a characteristic of this plan.", field=f"{prefix}.id", code="not_in_plan"
                )
            characteristic = existing[pk]
        else:
            characteristic = by_name.get(name) or Characteristic(plan=plan)
        if name in names:
            raise errors.invalid(f"Characteristic '{name}' is listed twice.", field=f"{prefix}.name", code="duplicate_name")
        if characteristic.pk is not None and characteristic.pk in used:
            raise errors.invalid("A characteristic is listed twice.", field=f"{prefix}.id", code="duplicate_characteristic")
        names.add(name)
        if characteristic.pk is not None:
            used.add(characteristic.pk)
        matched.append((characteristic, row))
    return matched


def _check_row(characteristic: Characteristic, row: dict, index: int, in_use: set[int]) -> Characteristic:
    prefix = f"characteristics.{index}"
    if characteristic.pk in in_use:
        for name in MEANING_FIELDS:
            if name in row and row[name] != getattr(characteristic, name):
                raise errors.ApplicationError(
                    f"Characteristic '{characteristic.name}' has measurements: its {name} cannot change."
                    " Make a new revision of the plan instead.",
                    code=errors.CHARACTERISTIC_IN_USE,
                    field=f"{prefix}.{name}",
                )
    for name in CHARACTERISTIC_FIELDS:
        if name in row:
            setattr(characteristic, name, row[name])
    if "position" not in row:
        characteristic.position = index
    if isinstance(characteristic.name, str):
        characteristic.name = characteristic.name.strip()
    try:
        characteristic.full_clean(exclude=["plan"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise validation_error_for(exc, prefix=prefix) from None
    if characteristic.chart_type == Characteristic.Chart.XBAR_R and not 2 <= characteristic.subgroup_size <= 25:
        raise errors.invalid(
            "An X̄–R chart needs subgroups of 2 to 25 measurements.", field=f"{prefix}.subgroup_size", code="invalid"
        )
    return characteristic


def _save_characteristics(plan: InspectionPlan, rows: list[dict[str, Any]]) -> None:
    matched = _characteristic_rows(plan, rows)
    in_use = set(
        Characteristic.objects.filter(plan=plan, measurements__isnull=False).values_list("pk", flat=True).distinct()
    ) if plan.pk else set()
    kept = {c.pk for c, _row in matched if c.pk is not None}
    removed = [c for c in plan.characteristics.all() if c.pk not in kept] if plan.pk else []
    for characteristic in removed:
        if characteristic.pk in in_use:
            raise errors.ApplicationError(
                f"Characteristic '{characteristic.name}' has measurements and cannot be removed."
                " Make a new revision of the plan instead.",
                code=errors.CHARACTERISTIC_IN_USE,
                field="characteristics",
                extra={"characteristic": characteristic.pk},
            )
    checked = [_check_row(c, row, index, in_use) for index, (c, row) in enumerate(matched)]
    if removed:
        Characteristic.objects.filter(pk__in=[c.pk for c in removed]).delete()
    # Free the names first, so two characteristics can swap names in one update.
    renamed = [c for c in checked if c.pk is not None]
    for characteristic in renamed:
        Characteristic.objects.filter(pk=characteristic.pk).update(name=f"~renaming~{characteristic.pk}")
    for characteristic in checked:
        characteristic.plan = plan
        fields = [*CHARACTERISTIC_FIELDS]
        if characteristic.pk is None:
            characteristic.save()
        else:
            characteristic.save(update_fields=fields)


def _save(plan: InspectionPlan, data: dict[str, Any], *, user, created: bool) -> InspectionPlan:
    _apply_plan_fields(plan, data)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        raise errors.invalid(
            f"{plan.item.code} already has a plan '{plan.name}' revision {plan.revision}.",
            field="revision",
            code="unique",
        ) from None
    if "characteristics" in data:
        _save_characteristics(plan, list(data["characteristics"] or []))
    record_event(
        type="inspection_plan.created" if created else "inspection_plan.updated",
        aggregate_type="inspection_plan",
        aggregate_id=plan.pk,
        payload={
            "plan": plan.pk,
            "item": plan.item_id,
            "name": plan.name,
            "revision": plan.revision,
            "trigger": plan.trigger,
            "aql": plan.aql,
            "inspection_level": plan.inspection_level,
            "is_active": plan.is_active,
            "characteristics": list(plan.characteristics.values_list("name", flat=True)),
        },
        actor=user,
    )
    return plan


@transaction.atomic
def inspection_plan_create(*, data: dict[str, Any], user=None) -> InspectionPlan:
    """A plan with its characteristics (``data["characteristics"]``: list of field dicts)."""
    return _save(InspectionPlan(), data, user=user, created=True)


@transaction.atomic
def inspection_plan_update(*, plan: InspectionPlan, data: dict[str, Any], user=None) -> InspectionPlan:
    """Change a plan; when ``characteristics`` is given it replaces the list as a whole (rows matched
    by id, else by name; a characteristic with measurements cannot be removed or change kind)."""
    plan = InspectionPlan.objects.select_for_update(of=("self",)).select_related("item").get(pk=plan.pk)
    return _save(plan, data, user=user, created=False)


@transaction.atomic
def inspection_plan_delete(*, plan: InspectionPlan, user=None) -> None:
    plan = InspectionPlan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
    if Inspection.objects.filter(plan=plan).exists():
        raise errors.ApplicationError(
            f"Plan '{plan}' has inspections; deactivate it instead of deleting it.",
            code=errors.PLAN_IN_USE,
            extra={"plan": plan.pk},
        )
    record_event(
        type="inspection_plan.deleted",
        aggregate_type="inspection_plan",
        aggregate_id=plan.pk,
        payload={"plan": plan.pk, "item": plan.item_id, "name": plan.name, "revision": plan.revision},
        actor=user,
    )
    SamplingState.objects.filter(plan=plan).delete()
    plan.delete()


def sampling_state_for(*, plan: InspectionPlan, item_id: int | None = None, lock: bool = False) -> SamplingState:
    """The switching state of ``plan`` for its item, created on first use (on normal inspection)."""
    item_id = item_id or plan.item_id
    state = SamplingState.objects.filter(plan=plan, item_id=item_id).first()
    if state is None:
        try:
            with transaction.atomic():
                state = SamplingState.objects.create(plan=plan, item_id=item_id)
        except IntegrityError:
            state = SamplingState.objects.get(plan=plan, item_id=item_id)
    if lock:
        state = SamplingState.objects.select_for_update(of=("self",)).get(pk=state.pk)
    return state


@transaction.atomic
def sampling_resume(*, plan: InspectionPlan, user, reason: str) -> SamplingState:
    """Resume sampling inspection after corrective action (ISO 2859-1 9.4): on tightened."""
    reason = (reason or "").strip()
    if not reason:
        raise errors.invalid("Say which corrective action was taken.", field="reason", code="reason_required")
    state = sampling_state_for(plan=plan, lock=True)
    if not state.discontinued:
        raise errors.ApplicationError(
            f"Sampling inspection under plan '{plan}' is not discontinued.",
            code=errors.NOT_DISCONTINUED,
            extra={"severity": state.severity},
        )
    state.take(resume_inspection(state.as_switching_state()))
    state.save()
    record_event(
        type="sampling.resumed",
        aggregate_type="inspection_plan",
        aggregate_id=plan.pk,
        payload={"plan": plan.pk, "item": state.item_id, "severity": state.severity, "reason": reason, "by": getattr(actor(user), "pk", None)},
        actor=user,
    )
    return state
