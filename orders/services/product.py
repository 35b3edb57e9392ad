"""Writes of bills of materials and routings: revisions, nested lines/operations, and the rules
that keep the product structure sound (units, one active revision at a time, no cycles)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from inventory.models import Item
from mes.errors import ApplicationError, InvalidInput
from orders import errors
from orders.locks import lock_bom, lock_product_structure, lock_routing, lock_routing_structure
from orders.models import BillOfMaterials, BOMLine, RevisionStatus, Routing, RoutingOperation
from orders.selectors.structure import find_bom_cycle, item_codes
from orders.services.common import apply_fields, build_children, upsert

BOM_LINE_FIELDS = ("component_id", "quantity", "unit_id", "scrap_factor", "operation_sequence", "is_phantom")
ROUTING_OPERATION_FIELDS = ("sequence", "name", "work_center_id", "setup_minutes", "run_minutes_per_unit")


def _check_effectivity(revision, model, *, code: str, noun: str) -> None:
    """Refuse a second active revision of the same item whose effectivity overlaps."""
    if revision.status != RevisionStatus.ACTIVE:
        return
    others = model.objects.filter(item_id=revision.item_id, status=RevisionStatus.ACTIVE).exclude(pk=revision.pk)
    for other in others:
        if revision.overlaps(other):
            window = f"{other.effective_from or '…'} – {other.effective_to or '…'}"
            raise ApplicationError(
                f"{noun} revision {other.revision} of this item is already active for {window}, which overlaps "
                f"this revision's effectivity. Make it obsolete or end its effectivity first.",
                code=code,
                field="effective_from",
                extra={"conflicting_revision": other.revision, "conflicting_id": other.pk},
            )


# --- bills of materials -------------------------------------------------------------------------


def _bom_lines(rows: list[dict[str, Any]]) -> list[BOMLine]:
    """Validate incoming line dicts (component an Item, unit a UnitOfMeasure or None)."""
    prepared = []
    for index, row in enumerate(rows):
        row = dict(row)
        component: Item = row.pop("component")
        unit = row.pop("unit", None) or row.pop("unit_id", None)
        row.pop("unit_id", None)
        unit_code = getattr(unit, "code", unit) or component.unit_id
        if unit_code != component.unit_id:
            raise InvalidInput(
                f"{component.code} is counted in {component.unit_id}, not {unit_code}.",
                field=f"lines.{index}.unit",
                code=errors.UNIT_MISMATCH,
            )
        if component.kind == Item.Kind.PHANTOM:
            row["is_phantom"] = True
        row.setdefault("position", (index + 1) * 10)
        prepared.append({**row, "component": component, "unit_id": unit_code})
    return build_children(BOMLine, prepared, prefix="lines", exclude=["bom", "component", "unit"])


def _same_lines(existing: list[BOMLine], new: list[BOMLine]) -> bool:
    key = lambda line: tuple(getattr(line, f) for f in (*BOM_LINE_FIELDS, "position"))  # noqa: E731
    return len(existing) == len(new) and all(key(a) == key(b) for a, b in zip(existing, new, strict=True))


def _save_bom(bom: BillOfMaterials, data: dict[str, Any]) -> BillOfMaterials:
    lock_product_structure()
    data = dict(data)
    line_rows = data.pop("lines", None)
    apply_fields(bom, data)
    lines = _bom_lines(line_rows) if line_rows is not None else None
    current = list(bom.lines.order_by("position", "id")) if bom.pk else []
    _check_effectivity(bom, BillOfMaterials, code=errors.BOM_EFFECTIVITY_OVERLAP, noun="BOM")
    if bom.status != RevisionStatus.OBSOLETE:
        components = [line.component_id for line in (lines if lines is not None else current)]
        cycle = find_bom_cycle(item=bom.item_id, component_ids=components, exclude_bom_id=bom.pk)
        if cycle:
            codes = item_codes(cycle)
            path = [codes.get(pk, str(pk)) for pk in cycle]
            raise ApplicationError(
                "This BOM would make a cycle: " + " → ".join(path) + ". An item cannot be made from itself.",
                code=errors.BOM_CYCLE,
                field="lines",
                extra={"path": path},
            )
    bom.save()
    if lines is not None and not _same_lines(current, lines):
        bom.lines.all().delete()
        for line in lines:
            line.bom = bom
        BOMLine.objects.bulk_create(lines)
    return bom


@transaction.atomic
def bom_create(*, data: dict[str, Any], user=None) -> BillOfMaterials:
    """A BOM revision with its ``lines`` (list of dicts: component, quantity, unit, scrap_factor,
    operation_sequence, is_phantom)."""
    return _save_bom(BillOfMaterials(), data)


@transaction.atomic
def bom_update(*, bom: BillOfMaterials, data: dict[str, Any], user=None) -> BillOfMaterials:
    """Change the header; ``lines`` when given replace all lines at once."""
    lock_product_structure()
    return _save_bom(lock_bom(bom), data)


def bom_upsert_by_external_id(*, external_id: str, data: dict[str, Any], user=None) -> tuple[BillOfMaterials, bool]:
    with transaction.atomic():
        lock_product_structure()
        return upsert(
            BillOfMaterials,
            external_id=external_id,
            create=lambda: bom_create(data={**data, "external_id": external_id}, user=user),
            update=lambda bom: bom_update(bom=bom, data=data, user=user),
        )


@transaction.atomic
def bom_delete(*, bom: BillOfMaterials, user=None) -> None:
    """Delete a revision (refused with 409 while a work order uses it)."""
    lock_product_structure()
    lock_bom(bom).delete()


# --- routings -----------------------------------------------------------------------------------


def _routing_operations(rows: list[dict[str, Any]]) -> list[RoutingOperation]:
    seen: dict[int, int] = {}
    prepared = []
    for index, row in enumerate(rows):
        sequence = row.get("sequence")
        if sequence in seen:
            raise InvalidInput(
                f"Sequence {sequence} is used by operation {seen[sequence]} already.",
                field=f"operations.{index}.sequence",
                code=errors.DUPLICATE_SEQUENCE,
            )
        seen[sequence] = index
        prepared.append(dict(row))
    return build_children(RoutingOperation, prepared, prefix="operations", exclude=["routing", "work_center"])


def _same_operations(existing: list[RoutingOperation], new: list[RoutingOperation]) -> bool:
    key = lambda op: tuple(getattr(op, f) for f in ROUTING_OPERATION_FIELDS)  # noqa: E731
    return len(existing) == len(new) and all(key(a) == key(b) for a, b in zip(existing, new, strict=True))


def _save_routing(routing: Routing, data: dict[str, Any]) -> Routing:
    data = dict(data)
    rows = data.pop("operations", None)
    apply_fields(routing, data)
    operations = _routing_operations(rows) if rows is not None else None
    _check_effectivity(routing, Routing, code=errors.ROUTING_EFFECTIVITY_OVERLAP, noun="Routing")
    routing.save()
    if operations is not None:
        current = list(routing.operations.order_by("sequence"))
        operations.sort(key=lambda op: op.sequence)
        if not _same_operations(current, operations):
            routing.operations.all().delete()
            for operation in operations:
                operation.routing = routing
            RoutingOperation.objects.bulk_create(operations)
    return routing


@transaction.atomic
def routing_create(*, data: dict[str, Any], user=None) -> Routing:
    """A routing revision with its ``operations`` (list of dicts: sequence, name, work_center,
    setup_minutes, run_minutes_per_unit)."""
    lock_routing_structure()
    return _save_routing(Routing(), data)


@transaction.atomic
def routing_update(*, routing: Routing, data: dict[str, Any], user=None) -> Routing:
    """Change the header; ``operations`` when given replace all operations at once."""
    lock_routing_structure()
    return _save_routing(lock_routing(routing), data)


def routing_upsert_by_external_id(*, external_id: str, data: dict[str, Any], user=None) -> tuple[Routing, bool]:
    with transaction.atomic():
        lock_routing_structure()
        return upsert(
            Routing,
            external_id=external_id,
            create=lambda: routing_create(data={**data, "external_id": external_id}, user=user),
            update=lambda routing: routing_update(routing=routing, data=data, user=user),
        )


@transaction.atomic
def routing_delete(*, routing: Routing, user=None) -> None:
    """Delete a revision (refused with 409 while a work order uses it)."""
    lock_routing(routing).delete()
