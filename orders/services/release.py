"""Releasing a work order into production.

``work_order_release`` locks the order, freezes the BOM and routing revisions, explodes the BOM
for the order quantity (single level: the order consumes its direct components, phantoms
resolved into theirs), checks and reserves the stocked material, and creates the operations.
With a shortage and no ``allow_shortage`` it refuses (409 ``shortage``) and changes nothing;
with ``allow_shortage`` it reserves what is there and reports the rest.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from inventory.models import Item
from mes.errors import ApplicationError, InvalidTransition
from mes.quantities import ZERO
from orders import errors
from orders.locks import lock_work_order
from orders.models import (
    BillOfMaterials,
    OperationStatus,
    RevisionStatus,
    Routing,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderOperation,
    WorkOrderStatus,
)
from orders.selectors.structure import MAX_QUANTITY, effective_bom, effective_routing, explode_bom
from orders.services.work_orders import work_order_transition

DEMAND_TYPE = "work_order"
INSUFFICIENT_STOCK = "insufficient_stock"


@dataclass
class Shortage:
    item: int
    item_code: str
    required: Decimal
    available: Decimal

    @property
    def missing(self) -> Decimal:
        return self.required - self.available

    def as_dict(self) -> dict:
        return {
            "item": self.item,
            "item_code": self.item_code,
            "required": str(self.required),
            "available": str(self.available),
            "shortage": str(self.missing),
        }


@dataclass
class ReleaseResult:
    work_order: WorkOrder
    shortages: list[Shortage] = field(default_factory=list)


def _frozen_bom(work_order: WorkOrder, on) -> BillOfMaterials | None:
    if work_order.bom_id:
        bom = BillOfMaterials.objects.select_related("item").get(pk=work_order.bom_id)
        if bom.item_id != work_order.item_id or bom.status == RevisionStatus.OBSOLETE:
            raise ApplicationError(
                f"BOM revision {bom.revision} cannot be used for {work_order.item.code}: it is "
                f"{'for another item' if bom.item_id != work_order.item_id else 'obsolete'}.",
                code=errors.INVALID_BOM,
                field="bom",
            )
        return bom
    return effective_bom(item=work_order.item_id, on=on)


def _frozen_routing(work_order: WorkOrder, on) -> Routing:
    if work_order.routing_id:
        routing = Routing.objects.get(pk=work_order.routing_id)
        if routing.item_id != work_order.item_id or routing.status == RevisionStatus.OBSOLETE:
            raise ApplicationError(
                f"Routing revision {routing.revision} cannot be used for {work_order.item.code}: it is "
                f"{'for another item' if routing.item_id != work_order.item_id else 'obsolete'}.",
                code=errors.INVALID_ROUTING,
                field="routing",
            )
    else:
        routing = effective_routing(item=work_order.item_id, on=on)
    if routing is None:
        raise ApplicationError(
            f"{work_order.item.code} has no active routing in effect on {on}: the order has no operations to run.",
            code=errors.NO_ROUTING,
            field="routing",
        )
    return routing


def _requirements(work_order: WorkOrder, bom: BillOfMaterials | None, sequences: list[int], on) -> dict[tuple[int, int], Decimal]:
    """(item id, operation sequence) → quantity, for the stocked components of the order."""
    if bom is None:
        return {}
    explosion = explode_bom(bom=bom, quantity=work_order.quantity, on=on, single_level=True)
    first = sequences[0]
    required: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for line in explosion.lines:
        if not line.stocked:
            continue
        sequence = line.operation_sequence if line.operation_sequence is not None else first
        if sequence not in sequences:
            raise ApplicationError(
                f"{line.component_code} is consumed at operation {sequence}, which routing has no operation "
                f"for (operations: {', '.join(map(str, sequences))}).",
                code=errors.UNKNOWN_OPERATION_SEQUENCE,
                extra={"item": line.component, "item_code": line.component_code, "operation_sequence": sequence},
            )
        required[(line.component, sequence)] += line.quantity
        if required[(line.component, sequence)] > MAX_QUANTITY:
            raise ApplicationError(
                f"{line.component_code} would need more than {MAX_QUANTITY}: the order quantity is too large.",
                code=errors.QUANTITY_TOO_LARGE,
                status=400,
                field="quantity",
            )
    return dict(required)


def _reserve(*, item: Item, quantity: Decimal, work_order: WorkOrder, user, allow_shortage: bool) -> tuple[int | None, Decimal]:
    """Reserve ``quantity`` (with ``allow_shortage``: as much of it as is available); returns
    (reservation id, quantity reserved). Raises ``insufficient_stock`` when short otherwise."""
    from inventory.selectors import available_quantity
    from inventory.services import reserve

    for _ in range(3):
        wanted = min(quantity, available_quantity(item=item)) if allow_shortage else quantity
        if wanted <= 0:
            return None, ZERO
        try:
            with transaction.atomic():
                reservation = reserve(
                    item=item, quantity=wanted, demand_type=DEMAND_TYPE, demand_id=work_order.pk, user=user
                )
            return reservation.pk, wanted
        except ApplicationError as exc:
            # Another order took the stock between the check and the reservation.
            if exc.code != INSUFFICIENT_STOCK or not allow_shortage:
                raise
    return None, ZERO


def _shortage_error(work_order: WorkOrder, shortages: list[Shortage]) -> ApplicationError:
    return ApplicationError(
        f"Not enough material to release {work_order.number}: "
        + ", ".join(f"{s.item_code} needs {s.required}, {s.available} available" for s in shortages)
        + ". Release with allow_shortage to reserve what there is.",
        code=errors.SHORTAGE,
        extra={"shortages": [s.as_dict() for s in shortages]},
    )


def _shortages(totals: dict[int, Decimal]) -> list[Shortage]:
    from inventory.selectors import availability_for

    return [
        Shortage(item=row["item"], item_code=row["item_code"], required=row["required"], available=row["available"])
        for row in availability_for(requirements=list(totals.items()))
        if row["shortage"] > 0
    ]


@transaction.atomic
def work_order_release(*, work_order: WorkOrder, user=None, allow_shortage: bool = False) -> ReleaseResult:
    """Release a draft order: freeze BOM and routing, reserve material, create operations.

    Refusals (409): not a draft (``invalid_transition``); no routing (``no_routing``); a pinned
    revision that does not fit (``invalid_bom``/``invalid_routing``); material short without
    ``allow_shortage`` (``shortage``, with ``shortages[]: {item, required, available}``).
    """
    work_order = lock_work_order(work_order)
    if work_order.status != WorkOrderStatus.DRAFT:
        raise InvalidTransition(
            entity=f"Work order {work_order.number}", current=work_order.status, target=WorkOrderStatus.RELEASED
        )
    now = timezone.now()
    on = timezone.localdate(now)
    bom = _frozen_bom(work_order, on)
    routing = _frozen_routing(work_order, on)
    operations = list(routing.operations.order_by("sequence"))
    if not operations:
        raise ApplicationError(
            f"Routing revision {routing.revision} of {work_order.item.code} has no operations.",
            code=errors.NO_ROUTING,
            field="routing",
        )
    sequences = [op.sequence for op in operations]
    required = _requirements(work_order, bom, sequences, on)

    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (item_id, _), quantity in required.items():
        totals[item_id] += quantity
    shortages = _shortages(totals)
    if shortages and not allow_shortage:
        raise _shortage_error(work_order, shortages)

    items = Item.objects.select_related("unit").in_bulk(list(totals))
    materials = []
    # Reserved in item order: the inventory services lock items, and every release takes those
    # locks in the same order, so two releases cannot deadlock.
    for (item_id, sequence), quantity in sorted(required.items()):
        try:
            reservation_id, reserved = _reserve(
                item=items[item_id], quantity=quantity, work_order=work_order, user=user, allow_shortage=allow_shortage
            )
        except ApplicationError as exc:
            if exc.code != INSUFFICIENT_STOCK:
                raise
            raise _shortage_error(work_order, _shortages(totals) or [
                Shortage(item=item_id, item_code=items[item_id].code, required=totals[item_id], available=ZERO)
            ]) from exc
        materials.append(
            WorkOrderMaterial(
                work_order=work_order,
                item_id=item_id,
                operation_sequence=sequence,
                quantity_required=quantity,
                quantity_reserved=reserved,
                reservation_id=reservation_id,
            )
        )
    WorkOrderMaterial.objects.bulk_create(materials)
    WorkOrderOperation.objects.bulk_create(
        [
            WorkOrderOperation(
                work_order=work_order,
                sequence=op.sequence,
                name=op.name,
                work_center_id=op.work_center_id,
                setup_minutes=op.setup_minutes,
                run_minutes_per_unit=op.run_minutes_per_unit,
                status=OperationStatus.READY if index == 0 else OperationStatus.PENDING,
            )
            for index, op in enumerate(operations)
        ]
    )
    # Shortages are re-read after reserving: a racing release may have taken stock meanwhile.
    if allow_shortage:
        short_by_item: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for material in materials:
            short_by_item[material.item_id] += material.quantity_required - material.quantity_reserved
        codes = {pk: item.code for pk, item in items.items()}
        shortages = [
            Shortage(item=item_id, item_code=codes.get(item_id, ""), required=totals[item_id], available=totals[item_id] - missing)
            for item_id, missing in sorted(short_by_item.items(), key=lambda kv: codes.get(kv[0], ""))
            if missing > 0
        ]

    work_order.bom = bom
    work_order.routing = routing
    work_order.released_at = now
    work_order.released_by = user if getattr(user, "is_authenticated", False) else None
    if work_order.release_time is None:
        work_order.release_time = now
    work_order_transition(
        work_order=work_order,
        target=WorkOrderStatus.RELEASED,
        user=user,
        reason="released with shortages" if shortages else "",
        event_type="work_order.released",
        payload={
            "bom": bom.pk if bom else None,
            "bom_revision": bom.revision if bom else None,
            "routing": routing.pk,
            "routing_revision": routing.revision,
            "operations": len(operations),
            "materials": [
                {"item": m.item_id, "operation_sequence": m.operation_sequence, "required": str(m.quantity_required),
                 "reserved": str(m.quantity_reserved)}
                for m in materials
            ],
            "shortages": [s.as_dict() for s in shortages],
        },
        details={"shortages": [s.as_dict() for s in shortages]} if shortages else None,
    )
    return ReleaseResult(work_order=work_order, shortages=shortages)
