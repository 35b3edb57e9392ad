"""Work orders: draft maintenance and the state machine (one service per transition).

Transitions (``orders.models.WORK_ORDER_TRANSITIONS``)::

    draft ──release──▶ released ──(start, execution)──▶ in_progress ──(complete)──▶ completed ──close──▶ closed
      │                  │  ▲                              │  ▲
      │                  hold│resume                      hold│resume
      │                  ▼  │                              ▼  │
      │                 on_hold (returns to where it was held)
      └──cancel──▶ cancelled ◀──cancel── released, or on_hold when held from released

Cancelling is refused once production has started (in progress, or on hold from in progress):
material has been issued and output reported by then.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from inventory.models import Item
from mes.errors import ApplicationError, InvalidInput, InvalidTransition
from mes.events import record_event
from orders import errors
from orders.locks import lock_work_order
from orders.models import RevisionStatus, WorkOrder, WorkOrderEvent, WorkOrderStatus
from orders.services.common import apply_fields, upsert

WORK_ORDER_FIELDS = ("number", "item", "quantity", "due_at", "priority", "bom", "routing", "release_time", "notes", "external_id")


def work_order_transition(
    *,
    work_order: WorkOrder,
    target: str,
    user=None,
    reason: str = "",
    event_type: str | None = None,
    payload: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> WorkOrder:
    """Move a locked work order to ``target`` if the transitions table allows it; record who,
    when and why (a :class:`WorkOrderEvent`) and, with ``event_type``, an outbox event.

    The building block of every transition service; call it inside their transaction."""
    current = work_order.status
    if not work_order.can_go_to(target):
        raise InvalidTransition(entity=f"Work order {work_order.number}", current=current, target=target)
    now = timezone.now()
    work_order.status = target
    work_order.save()
    WorkOrderEvent.objects.create(
        work_order=work_order,
        from_status=current,
        to_status=target,
        reason=reason[:500],
        details=details or {},
        user=user if getattr(user, "is_authenticated", False) else None,
        occurred_at=now,
    )
    if event_type:
        record_event(
            type=event_type,
            aggregate_type="work_order",
            aggregate_id=work_order.pk,
            payload={
                "work_order": work_order.pk,
                "number": work_order.number,
                "item": work_order.item_id,
                "quantity": str(work_order.quantity),
                "from_status": current,
                "status": target,
                "reason": reason,
                **(payload or {}),
            },
            actor=user,
        )
    return work_order


# --- drafts -------------------------------------------------------------------------------------


def validate_draft(work_order: WorkOrder) -> None:
    item: Item = work_order.item
    decimals = item.unit.decimals
    if work_order.quantity is not None and work_order.quantity != work_order.quantity.quantize(Decimal(1).scaleb(-decimals)):
        raise InvalidInput(
            f"{item.code} is counted in {item.unit_id}: the quantity may have {decimals} decimal places.",
            field="quantity",
            code=errors.FRACTIONAL_QUANTITY,
        )
    if work_order.bom_id and work_order.bom.item_id != item.pk:
        raise InvalidInput("The BOM is for another item.", field="bom", code=errors.INVALID_BOM)
    if work_order.bom_id and work_order.bom.status == RevisionStatus.OBSOLETE:
        raise InvalidInput("The BOM revision is obsolete.", field="bom", code=errors.INVALID_BOM)
    if work_order.routing_id and work_order.routing.item_id != item.pk:
        raise InvalidInput("The routing is for another item.", field="routing", code=errors.INVALID_ROUTING)
    if work_order.routing_id and work_order.routing.status == RevisionStatus.OBSOLETE:
        raise InvalidInput("The routing revision is obsolete.", field="routing", code=errors.INVALID_ROUTING)


def _next_number(pk: int) -> str:
    number = f"WO-{pk:06d}"
    suffix = 1
    while WorkOrder.objects.filter(number=number).exists():
        suffix += 1
        number = f"WO-{pk:06d}-{suffix}"
    return number


@transaction.atomic
def work_order_create(*, data: dict[str, Any], user=None) -> WorkOrder:
    """A draft work order. Without a ``number`` one is generated from its id (``WO-000123``)."""
    data = {k: v for k, v in data.items() if k in WORK_ORDER_FIELDS}
    generate = not data.get("number")
    if generate:
        data["number"] = f"new-{uuid.uuid4().hex[:24]}"
    work_order = WorkOrder(status=WorkOrderStatus.DRAFT)
    apply_fields(work_order, data)
    validate_draft(work_order)
    work_order.save()
    if generate:
        work_order.number = _next_number(work_order.pk)
        work_order.save(update_fields=["number"])
    WorkOrderEvent.objects.create(
        work_order=work_order,
        from_status="",
        to_status=WorkOrderStatus.DRAFT,
        reason="created",
        user=user if getattr(user, "is_authenticated", False) else None,
        occurred_at=timezone.now(),
    )
    return work_order


def require_draft(work_order: WorkOrder, action: str) -> None:
    if work_order.status != WorkOrderStatus.DRAFT:
        raise ApplicationError(
            f"Work order {work_order.number} is {work_order.status}: only a draft can be {action}.",
            code=errors.WORK_ORDER_NOT_DRAFT,
            extra={"current_status": work_order.status},
        )


@transaction.atomic
def work_order_update(*, work_order: WorkOrder, data: dict[str, Any], user=None) -> WorkOrder:
    """Change a draft (409 ``work_order_not_draft`` once released)."""
    work_order = lock_work_order(work_order)
    require_draft(work_order, "changed")
    data = {k: v for k, v in data.items() if k in WORK_ORDER_FIELDS}
    if "number" in data and not data["number"]:
        data.pop("number")
    apply_fields(work_order, data)
    validate_draft(work_order)
    work_order.save()
    return work_order


def unchanged(work_order: WorkOrder, data: dict[str, Any]) -> bool:
    """True when ``data`` would change nothing of ``work_order`` (an empty number keeps the
    order's own); relations are compared by id, without loading them."""
    for name, value in data.items():
        if name not in WORK_ORDER_FIELDS or (name == "number" and not value):
            continue
        model_field = work_order._meta.get_field(name)
        if model_field.is_relation and (value is None or hasattr(value, "pk")):
            current, value = getattr(work_order, model_field.attname), getattr(value, "pk", None)
        else:
            current = getattr(work_order, name)
        if current != value:
            return False
    return True


def work_order_upsert_by_external_id(*, external_id: str, data: dict[str, Any], user=None) -> tuple[WorkOrder, bool]:
    """Create or update the ERP's order. A released order is left alone when the ERP sends the
    same data again; a change to it is refused (409 ``work_order_not_draft``)."""

    def update(work_order: WorkOrder) -> WorkOrder:
        if work_order.status != WorkOrderStatus.DRAFT and unchanged(work_order, data):
            return work_order
        return work_order_update(work_order=work_order, data=data, user=user)

    return upsert(
        WorkOrder,
        external_id=external_id,
        create=lambda: work_order_create(data={**data, "external_id": external_id}, user=user),
        update=update,
    )


@transaction.atomic
def work_order_delete(*, work_order: WorkOrder, user=None) -> None:
    """Delete a draft (a released order is cancelled instead, keeping its history)."""
    work_order = lock_work_order(work_order)
    require_draft(work_order, "deleted")
    work_order.delete()


# --- transitions --------------------------------------------------------------------------------


@transaction.atomic
def work_order_hold(*, work_order: WorkOrder, user=None, reason: str = "") -> WorkOrder:
    """Stop a released or running order; reservations and operations stay as they are."""
    work_order = lock_work_order(work_order)
    previous = work_order.status
    if not work_order.can_go_to(WorkOrderStatus.ON_HOLD):
        raise InvalidTransition(entity=f"Work order {work_order.number}", current=previous, target=WorkOrderStatus.ON_HOLD)
    work_order.held_from = previous
    return work_order_transition(
        work_order=work_order, target=WorkOrderStatus.ON_HOLD, user=user, reason=reason, event_type="work_order.held"
    )


@transaction.atomic
def work_order_resume(*, work_order: WorkOrder, user=None, reason: str = "") -> WorkOrder:
    """Take an order off hold, back to the state it was held in."""
    work_order = lock_work_order(work_order)
    if work_order.status != WorkOrderStatus.ON_HOLD:
        target = work_order.held_from or WorkOrderStatus.RELEASED
        raise InvalidTransition(entity=f"Work order {work_order.number}", current=work_order.status, target=target)
    target = work_order.held_from or WorkOrderStatus.RELEASED
    work_order.held_from = ""
    return work_order_transition(
        work_order=work_order, target=target, user=user, reason=reason, event_type="work_order.resumed"
    )


def _release_reservations(work_order: WorkOrder, user) -> None:
    from inventory.services import release_reservations_for

    release_reservations_for(demand_type="work_order", demand_id=work_order.pk, user=user)
    work_order.materials.update(quantity_reserved=0)


@transaction.atomic
def work_order_cancel(*, work_order: WorkOrder, user=None, reason: str = "") -> WorkOrder:
    """Cancel an order that has not started; its material reservations are released."""
    work_order = lock_work_order(work_order)
    if work_order.status == WorkOrderStatus.ON_HOLD and work_order.held_from == WorkOrderStatus.IN_PROGRESS:
        raise InvalidTransition(
            entity=f"Work order {work_order.number}",
            current=work_order.status,
            target=WorkOrderStatus.CANCELLED,
            extra={"held_from": work_order.held_from, "reason": "Production has started on this order."},
        )
    if not work_order.can_go_to(WorkOrderStatus.CANCELLED):
        raise InvalidTransition(entity=f"Work order {work_order.number}", current=work_order.status, target=WorkOrderStatus.CANCELLED)
    had_reservations = work_order.status != WorkOrderStatus.DRAFT
    work_order.held_from = ""
    if had_reservations:
        _release_reservations(work_order, user)
    return work_order_transition(
        work_order=work_order, target=WorkOrderStatus.CANCELLED, user=user, reason=reason, event_type="work_order.cancelled"
    )


@transaction.atomic
def work_order_close(*, work_order: WorkOrder, user=None, reason: str = "") -> WorkOrder:
    """Close a completed order; whatever it still had reserved is released."""
    work_order = lock_work_order(work_order)
    if not work_order.can_go_to(WorkOrderStatus.CLOSED):
        raise InvalidTransition(entity=f"Work order {work_order.number}", current=work_order.status, target=WorkOrderStatus.CLOSED)
    _release_reservations(work_order, user)
    return work_order_transition(
        work_order=work_order, target=WorkOrderStatus.CLOSED, user=user, reason=reason, event_type="work_order.closed"
    )
