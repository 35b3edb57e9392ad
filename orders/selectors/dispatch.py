"""What each work center should run next, and the reads of execution records."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Prefetch, Q, QuerySet

from inventory.models import Item
from mes.quantities import ZERO
from orders.models import (
    ACTIVE_OPERATION_STATUSES,
    DowntimeEvent,
    OperationEvent,
    ProductionReport,
    ReportConsumption,
    ReportGenealogy,
    ReportOutput,
    WorkCenter,
    WorkOrderMaterial,
    WorkOrderOperation,
    WorkOrderStatus,
)

DISPATCHABLE_ORDER_STATUSES = (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)


@dataclass
class MaterialToScan:
    item: int
    item_code: str
    item_name: str
    tracking: str
    unit: str
    quantity_required: Decimal
    quantity_issued: Decimal
    quantity_to_issue: Decimal
    backflushed: bool


@dataclass
class DispatchRow:
    operation: WorkOrderOperation
    quantity_left: Decimal
    quantity_available: Decimal | None
    materials: list[MaterialToScan] = field(default_factory=list)


def dispatch_queryset(*, work_center: WorkCenter | int) -> QuerySet[WorkOrderOperation]:
    """Ready, running and paused operations of released or running orders at the work center,
    in dispatch order: scheduled ones by planned start, then the rest by priority (highest
    first) and due date (earliest first, none last)."""
    return (
        WorkOrderOperation.objects.filter(
            work_center=work_center,
            status__in=list(ACTIVE_OPERATION_STATUSES),
            work_order__status__in=DISPATCHABLE_ORDER_STATUSES,
        )
        .select_related("work_order", "work_order__item", "work_order__item__unit", "work_center")
        .order_by(
            F("planned_start").asc(nulls_last=True),
            F("work_order__priority").desc(),
            F("work_order__due_at").asc(nulls_last=True),
            "work_order__number",
            "sequence",
        )
    )


def dispatch_rows(operations: list[WorkOrderOperation]) -> list[DispatchRow]:
    """Quantities left and the materials to scan for a page of the dispatch list: two queries
    whatever its length (the previous operations' output, the orders' frozen requirements)."""
    if not operations:
        return []
    orders = {op.work_order_id for op in operations}
    previous_good: dict[tuple[int, int], Decimal] = {}
    all_ops = WorkOrderOperation.objects.filter(work_order_id__in=orders).values_list("work_order_id", "sequence", "quantity_good")
    by_order: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for order_id, sequence, good in all_ops:
        by_order[order_id].append((sequence, good))
    for order_id, rows in by_order.items():
        rows.sort()
        for (_, good), (sequence, _) in zip(rows, rows[1:]):
            previous_good[(order_id, sequence)] = good
    wanted = Q()
    for op in operations:
        wanted |= Q(work_order_id=op.work_order_id, operation_sequence=op.sequence)
    materials: dict[tuple[int, int], list[MaterialToScan]] = defaultdict(list)
    for m in WorkOrderMaterial.objects.filter(wanted).select_related("item").order_by("item__code"):
        materials[(m.work_order_id, m.operation_sequence)].append(
            MaterialToScan(
                item=m.item_id,
                item_code=m.item.code,
                item_name=m.item.name,
                tracking=m.item.tracking,
                unit=m.item.unit_id,
                quantity_required=m.quantity_required,
                quantity_issued=m.quantity_issued,
                quantity_to_issue=max(m.quantity_required - m.quantity_issued, ZERO),
                backflushed=m.item.tracking == Item.Tracking.NONE,
            )
        )
    out = []
    for op in operations:
        ordered = op.work_order.quantity
        handled = op.quantity_good + op.quantity_scrap
        before = previous_good.get((op.work_order_id, op.sequence))
        out.append(
            DispatchRow(
                operation=op,
                quantity_left=max(ordered - op.quantity_good, ZERO),
                quantity_available=None if before is None else max(before - handled, ZERO),
                materials=materials.get((op.work_order_id, op.sequence), []),
            )
        )
    return out


def production_report_list() -> QuerySet[ProductionReport]:
    return ProductionReport.objects.select_related(
        "operation", "work_order", "work_order__item", "scrap_reason", "user", "reverses"
    ).prefetch_related(
        Prefetch("consumed", queryset=ReportConsumption.objects.select_related("item", "lot", "serial", "location", "move")),
        Prefetch("outputs", queryset=ReportOutput.objects.select_related("item", "lot", "serial", "location", "move")),
        Prefetch("genealogy", queryset=ReportGenealogy.objects.select_related("link")),
        "reversed_by",
    )


def operation_history(*, operation: WorkOrderOperation | int) -> QuerySet[OperationEvent]:
    return OperationEvent.objects.filter(operation=operation).select_related("user").order_by("pk")


def downtime_list() -> QuerySet[DowntimeEvent]:
    return DowntimeEvent.objects.select_related("work_center", "reason", "opened_by", "closed_by")


__all__ = [
    "DispatchRow",
    "MaterialToScan",
    "dispatch_queryset",
    "dispatch_rows",
    "downtime_list",
    "operation_history",
    "production_report_list",
]
