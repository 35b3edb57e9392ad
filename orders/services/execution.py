"""The operator's actions on an operation: start, pause, resume, complete.

States and transitions (``orders.models.OPERATION_TRANSITIONS``)::

    pending ──(ready)──▶ ready ──start──▶ running ──complete──▶ done
                                           │  ▲                  ▲
                                      pause│  │resume            │complete
                                           ▼  │                  │
                                          paused ────────────────┘

* The first operation is ``ready`` once the order is released. A later operation becomes ready
  as soon as the previous one has reported some good quantity (or is completed): operations
  overlap, the next station may start on the first units while the previous one still runs.
  How much it may report is limited by what the previous operation has passed on.
* The first start of any operation moves the work order to ``in_progress`` (through
  :func:`orders.services.work_order_transition`).
* An operation is completed only after every operation before it; completing the last one
  completes the work order and emits ``work_order.completed`` with the finished lots/serials.
  The finished goods are already in stock by then: each report of the last operation puts its
  good units into the finished-goods location (see :mod:`orders.services.reports`).

Every transition writes an :class:`~orders.models.OperationEvent` (user, server time, the
client's ``recorded_at``, reason) and an outbox event (``operation.started`` …).

Locks, in this order: the work order (when it may change), then its operations by pk; the
inventory services' own locks come after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from django.db import connections, router, transaction
from django.utils import timezone

from inventory.models import Item, Lot, SerialNumber, UnitOfMeasure
from mes import sql
from mes.errors import ApplicationError, InvalidTransition, NotFound
from mes.events import record_event
from orders import errors
from orders.models import (
    OPERATION_TRANSITIONS,
    OperationEvent,
    OperationStatus,
    ProductionReport,
    ReportOutput,
    WorkCenter,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)
from orders.services.work_orders import work_order_transition

RUNNABLE_ORDER_STATUSES = frozenset({WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS})


def _user(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def lock_work_order_for_execution(work_order_id: int) -> WorkOrder:
    return WorkOrder.objects.select_for_update(of=("self",)).select_related("item", "item__unit").get(pk=work_order_id)


@cache
def operation_select() -> tuple[str, tuple[sql.Part, ...]]:
    """The select list and parts of an operation read with its work order, item, unit and work center."""
    columns = ", ".join(
        [
            sql.select_columns(WorkOrderOperation, "o"),
            sql.select_columns(WorkOrder, "w"),
            sql.select_columns(Item, "i"),
            sql.select_columns(UnitOfMeasure, "u"),
            sql.select_columns(WorkCenter, "c"),
        ]
    )
    parts = (
        sql.Part(WorkOrderOperation, name="operation"),
        sql.Part(WorkOrder, parent="operation", relation="work_order"),
        sql.Part(Item, parent="workorder", relation="item"),
        sql.Part(UnitOfMeasure, parent="item", relation="unit"),
        sql.Part(WorkCenter, parent="operation", relation="work_center"),
    )
    return columns, parts


def lock_operations(ids: Iterable[int]) -> dict[int, WorkOrderOperation]:
    """Lock operations by pk, in pk order (their work orders and work centers come along, unlocked)."""
    ids = sorted(set(ids))
    columns, parts = operation_select()
    rows = sql.fetch_models(
        f"SELECT {columns} FROM orders_workorderoperation o "
        "JOIN orders_workorder w ON w.id = o.work_order_id "
        "JOIN inventory_item i ON i.id = w.item_id "
        "JOIN inventory_unitofmeasure u ON u.code = i.unit_id "
        "JOIN orders_workcenter c ON c.id = o.work_center_id "
        f"WHERE o.id IN ({sql.in_list(ids)}) ORDER BY o.id {sql.for_update('o')}",
        ids,
        parts,
    )
    return {row.pk: row for row in rows}


@dataclass(frozen=True)
class RouteStep:
    """One operation of a work order's route, as the execution services need it."""

    pk: int
    sequence: int
    line_side_location_id: int | None


_ROUTE_COLUMNS = "SELECT o.id, o.sequence, c.line_side_location_id"
_ROUTE_FROM = " FROM orders_workorderoperation o JOIN orders_workcenter c ON c.id = o.work_center_id "
_ROUTE = _ROUTE_COLUMNS + _ROUTE_FROM
# The route of the work order of one operation (the operation's id as the parameter).
_ROUTE_OF_OPERATION_FROM = (
    _ROUTE_FROM + "WHERE o.work_order_id = (SELECT s.work_order_id FROM orders_workorderoperation s WHERE s.id = %s) "
    "ORDER BY o.sequence"
)


def route_of(work_order_id: int) -> list[RouteStep]:
    """The operations of a work order in sequence order (one query, no locks)."""
    return [RouteStep(*row) for row in sql.fetch(_ROUTE + "WHERE o.work_order_id = %s ORDER BY o.sequence", [work_order_id])]


def neighbours(operation: WorkOrderOperation | int) -> tuple[RouteStep | None, RouteStep | None]:
    """The operations just before and just after ``operation`` (an operation or its pk) in its
    work order, in one query; ``NotFound`` when there is no such operation."""
    pk = getattr(operation, "pk", operation)
    return _steps_around([RouteStep(*row) for row in sql.fetch(_ROUTE_COLUMNS + _ROUTE_OF_OPERATION_FROM, [pk])], pk)


def _steps_around(route: list[RouteStep], pk: int) -> tuple[RouteStep | None, RouteStep | None]:
    """The steps just before and just after operation ``pk`` in ``route`` (in sequence order);
    ``NotFound`` when it is not there."""
    index = next((i for i, step in enumerate(route) if step.pk == pk), None)
    if index is None:
        raise NotFound(f"Operation {pk} does not exist.")
    return (route[index - 1] if index > 0 else None), (route[index + 1] if index + 1 < len(route) else None)


def operation_payload(operation: WorkOrderOperation, **extra) -> dict:
    return {
        "operation_id": operation.pk,
        "work_order_id": operation.work_order_id,
        "number": operation.work_order.number,
        "sequence": operation.sequence,
        "work_center_id": operation.work_center_id,
        "status": operation.status,
        "quantity_good": operation.quantity_good,
        "quantity_scrap": operation.quantity_scrap,
        **extra,
    }


def record_transition(
    *,
    operation: WorkOrderOperation,
    target: str,
    action: str,
    user,
    recorded_at: dt.datetime | None = None,
    reason: str = "",
    event_type: str | None = None,
) -> WorkOrderOperation:
    """Move a locked operation to ``target`` when the table allows it; write its history row and event."""
    current = operation.status
    if target not in OPERATION_TRANSITIONS[current]:
        raise InvalidTransition(
            entity=f"Operation {operation.sequence} of {operation.work_order.number}", current=current, target=target
        )
    now = timezone.now()
    operation.status = target
    fields = ["status", "updated_at"]
    if target == OperationStatus.RUNNING and operation.actual_start is None:
        operation.actual_start = recorded_at or now
        fields.append("actual_start")
    if target == OperationStatus.DONE:
        operation.actual_end = recorded_at or now
        fields.append("actual_end")
    operation.save(update_fields=fields)
    OperationEvent.objects.create(
        operation=operation,
        action=action,
        from_status=current,
        to_status=target,
        reason=(reason or "")[:500],
        user=_user(user),
        occurred_at=now,
        recorded_at=recorded_at,
    )
    if event_type:
        record_event(
            type=event_type,
            aggregate_type="work_order_operation",
            aggregate_id=operation.pk,
            payload=operation_payload(
                operation,
                from_status=current,
                reason=reason or "",
                recorded_at=recorded_at.isoformat() if recorded_at else None,
            ),
            actor=_user(user),
        )
    return operation


def make_ready(*, operation_id: int | None, user, reason: str) -> None:
    """Ready the operation if it is still pending (a conditional update: no wait when it is not)."""
    if operation_id is None:
        return
    connection = connections[router.db_for_write(WorkOrderOperation)]
    now = WorkOrderOperation._meta.get_field("updated_at").get_db_prep_save(timezone.now(), connection)
    changed = sql.execute(
        "UPDATE orders_workorderoperation SET status = %s, updated_at = %s WHERE id = %s AND status = %s",
        [OperationStatus.READY.value, now, operation_id, OperationStatus.PENDING.value],
    )
    if changed:
        OperationEvent.objects.create(
            operation_id=operation_id,
            action=OperationEvent.Action.READY,
            from_status=OperationStatus.PENDING,
            to_status=OperationStatus.READY,
            reason=reason,
            user=_user(user),
        )


def _require_runnable(work_order: WorkOrder, what: str) -> None:
    if work_order.status not in RUNNABLE_ORDER_STATUSES:
        raise ApplicationError(
            f"Work order {work_order.number} is {work_order.status}: its operations cannot be {what}.",
            code=errors.WORK_ORDER_NOT_RUNNABLE,
            extra={"work_order_status": work_order.status},
        )


@transaction.atomic
def operation_start(
    *, operation: WorkOrderOperation, user, recorded_at: dt.datetime | None = None, reason: str = ""
) -> WorkOrderOperation:
    """ready → running. The order's first start moves it to ``in_progress``."""
    work_order = lock_work_order_for_execution(operation.work_order_id)
    operation = lock_operations([operation.pk])[operation.pk]
    operation.work_order = work_order
    _require_runnable(work_order, "started")
    if work_order.status == WorkOrderStatus.RELEASED:
        work_order_transition(
            work_order=work_order,
            target=WorkOrderStatus.IN_PROGRESS,
            user=user,
            reason=f"operation {operation.sequence} started",
            event_type="work_order.started",
        )
    return record_transition(
        operation=operation,
        target=OperationStatus.RUNNING,
        action=OperationEvent.Action.START,
        user=user,
        recorded_at=recorded_at,
        reason=reason,
        event_type="operation.started",
    )


@transaction.atomic
def operation_pause(
    *, operation: WorkOrderOperation, user, recorded_at: dt.datetime | None = None, reason: str = ""
) -> WorkOrderOperation:
    """running → paused (a break, a problem); reports are refused while paused."""
    operation = lock_operations([operation.pk])[operation.pk]
    return record_transition(
        operation=operation,
        target=OperationStatus.PAUSED,
        action=OperationEvent.Action.PAUSE,
        user=user,
        recorded_at=recorded_at,
        reason=reason,
        event_type="operation.paused",
    )


@transaction.atomic
def operation_resume(
    *, operation: WorkOrderOperation, user, recorded_at: dt.datetime | None = None, reason: str = ""
) -> WorkOrderOperation:
    """paused → running; refused while the work order is on hold."""
    operation = lock_operations([operation.pk])[operation.pk]
    _require_runnable(operation.work_order, "resumed")
    return record_transition(
        operation=operation,
        target=OperationStatus.RUNNING,
        action=OperationEvent.Action.RESUME,
        user=user,
        recorded_at=recorded_at,
        reason=reason,
        event_type="operation.resumed",
    )


def finished_output(*, operation: WorkOrderOperation) -> tuple[list[Lot], list[SerialNumber]]:
    """The lots and serials an operation passed on as good, its reversed reports left out."""
    rows = ReportOutput.objects.filter(
        report__operation=operation,
        report__kind=ProductionReport.Kind.REPORT,
        report__reversed_by__isnull=True,
        action__in=[ReportOutput.Action.PRODUCED, ReportOutput.Action.PASSED, ReportOutput.Action.COUNTED],
    ).select_related("lot", "serial")
    lots: dict[int, Lot] = {}
    serials: dict[int, SerialNumber] = {}
    for row in rows.order_by("pk"):
        if row.serial_id:
            serials[row.serial_id] = row.serial
        elif row.lot_id:
            lots[row.lot_id] = row.lot
    return list(lots.values()), list(serials.values())


def _complete_work_order(*, work_order: WorkOrder, last: WorkOrderOperation, user) -> None:
    work_order_transition(
        work_order=work_order,
        target=WorkOrderStatus.COMPLETED,
        user=user,
        reason=f"last operation {last.sequence} completed",
        details={"quantity": str(last.quantity_good)},
    )
    lots, serials = finished_output(operation=last)
    record_event(
        type="work_order.completed",
        aggregate_type="work_order",
        aggregate_id=work_order.pk,
        payload={
            "work_order_id": work_order.pk,
            "number": work_order.number,
            "item_id": work_order.item_id,
            "quantity": str(last.quantity_good),
            "finished_lots": [{"id": lot.pk, "code": lot.code} for lot in lots],
            "finished_serials": [{"id": serial.pk, "code": serial.code} for serial in serials],
        },
        actor=_user(user),
    )


@transaction.atomic
def operation_complete(
    *, operation: WorkOrderOperation, user, recorded_at: dt.datetime | None = None, reason: str = ""
) -> WorkOrderOperation:
    """running or paused → done, once every earlier operation is done. Readies the next one;
    completing the last operation completes the work order."""
    work_order = lock_work_order_for_execution(operation.work_order_id)
    ids = list(WorkOrderOperation.objects.filter(work_order_id=work_order.pk).order_by("sequence").values_list("pk", flat=True))
    locked = lock_operations(ids)
    for row in locked.values():
        row.work_order = work_order
    operation = locked[operation.pk]
    index = ids.index(operation.pk)
    open_before = [locked[pk] for pk in ids[:index] if locked[pk].status != OperationStatus.DONE]
    if open_before and operation.status in (OperationStatus.RUNNING, OperationStatus.PAUSED):
        raise ApplicationError(
            f"Operation {operation.sequence} of {work_order.number} cannot be completed before operation(s) "
            f"{', '.join(str(op.sequence) for op in open_before)}.",
            code=errors.PREVIOUS_OPERATION_NOT_DONE,
            extra={"open_operations": [{"id": op.pk, "sequence": op.sequence, "status": op.status} for op in open_before]},
        )
    is_last = index == len(ids) - 1
    if is_last and operation.status in (OperationStatus.RUNNING, OperationStatus.PAUSED) and work_order.status != WorkOrderStatus.IN_PROGRESS:
        raise ApplicationError(
            f"Work order {work_order.number} is {work_order.status}: its last operation cannot be completed.",
            code=errors.WORK_ORDER_NOT_RUNNABLE,
            extra={"work_order_status": work_order.status},
        )
    record_transition(
        operation=operation,
        target=OperationStatus.DONE,
        action=OperationEvent.Action.COMPLETE,
        user=user,
        recorded_at=recorded_at,
        reason=reason,
        event_type="operation.completed",
    )
    if is_last:
        _complete_work_order(work_order=work_order, last=operation, user=user)
    else:
        make_ready(operation_id=ids[index + 1], user=user, reason=f"operation {operation.sequence} completed")
    return operation

