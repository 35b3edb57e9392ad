"""Reversing a wrong production report: a new reversing report, nothing deleted."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory import services as inventory
from inventory.selectors import available_quantity
from mes.errors import ApplicationError, InvalidInput
from mes.events import record_event
from mes.quantities import ZERO
from orders import errors
from orders.models import (
    ProductionReport,
    ReportConsumption,
    ReportGenealogy,
    ReportOutput,
    WorkOrderMaterial,
    WorkOrderOperation,
    WorkOrderStatus,
)
from orders.services.execution import lock_operations, neighbours
from orders.services.report_checks import DEMAND_TYPE, GOOD_ACTIONS, acting_user


@transaction.atomic
def production_report_reverse(
    *, report: ProductionReport, user, reason: str, recorded_at: dt.datetime | None = None
) -> ProductionReport:
    """Undo a wrong report with a reversing report: every stock move reversed (components back to
    where they were issued from and re-reserved for the order, output taken back out), the
    operation's counters restored, its genealogy links marked reversed, ``production.reversed``
    emitted. Nothing is deleted. Refused (409) for a reversal, a report already reversed
    (``already_reversed``), an order no longer running (``not_reversible``), or output the next
    operation has already handled (``output_used_downstream``)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the report is reversed.", field="reason", code="reason_required")
    operation = WorkOrderOperation.objects.select_related("work_order").get(pk=report.operation_id)
    _, next_step = neighbours(operation)
    locked = lock_operations([operation.pk] + ([next_step.pk] if next_step else []))
    operation = locked[operation.pk]
    following = locked.get(next_step.pk) if next_step else None
    work_order = operation.work_order
    original = ProductionReport.objects.select_for_update(of=("self",)).get(pk=report.pk)
    if original.kind != ProductionReport.Kind.REPORT:
        raise ApplicationError(f"Report #{original.pk} is itself a reversal.", code=errors.NOT_REVERSIBLE)
    if ProductionReport.objects.filter(reverses=original).exists():
        raise ApplicationError(f"Report #{original.pk} has already been reversed.", code=errors.ALREADY_REVERSED)
    if work_order.status not in (WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.ON_HOLD):
        raise ApplicationError(
            f"Work order {work_order.number} is {work_order.status}: its reports can no longer be reversed.",
            code=errors.NOT_REVERSIBLE,
            extra={"work_order_status": work_order.status},
        )
    outputs = list(original.outputs.select_related("serial", "lot").order_by("pk"))
    if following is not None:
        check_not_used_downstream(original, outputs, operation, following)

    reversal = ProductionReport.objects.create(
        kind=ProductionReport.Kind.REVERSAL,
        operation=operation,
        work_order=work_order,
        quantity_good=-original.quantity_good,
        quantity_scrap=-original.quantity_scrap,
        scrap_reason=original.scrap_reason,
        reverses=original,
        reason=reason[:500],
        user=acting_user(user),
        recorded_at=recorded_at,
    )
    consumption = list(original.consumed.select_related("move", "item").order_by("pk"))
    moves = [(row.item_id, row.move, row) for row in consumption] + [(row.item_id, row.move, row) for row in outputs if row.move_id]
    moves.sort(key=lambda m: (m[0], -m[1].pk))
    mirrored_consumption, mirrored_outputs = [], []
    rereserve: dict[int, Decimal] = defaultdict(lambda: ZERO)
    unissued: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for item_id, move, row in moves:
        back = inventory.reverse_move(move=move, reason=f"report #{original.pk} reversed: {reason}"[:200], user=user)
        if isinstance(row, ReportConsumption):
            unissued[item_id] += move.quantity
            if move.reservation_id:
                rereserve[item_id] += move.quantity
            mirrored_consumption.append(
                ReportConsumption(
                    report=reversal, item_id=item_id, lot_id=row.lot_id, serial_id=row.serial_id,
                    location_id=row.location_id, quantity=-row.quantity, backflushed=row.backflushed, move=back,
                )
            )
        else:
            mirrored_outputs.append(
                ReportOutput(
                    report=reversal, action=row.action, item_id=item_id, lot_id=row.lot_id, serial_id=row.serial_id,
                    location_id=back.to_location_id, quantity=-row.quantity, move=back,
                )
            )
    for row in outputs:
        if row.move_id is None:
            mirrored_outputs.append(
                ReportOutput(
                    report=reversal, action=row.action, item_id=row.item_id, lot_id=row.lot_id, serial_id=row.serial_id,
                    location_id=row.location_id, quantity=-row.quantity,
                )
            )
    ReportConsumption.objects.bulk_create(mirrored_consumption)
    ReportOutput.objects.bulk_create(mirrored_outputs)
    for item_id, quantity in sorted(rereserve.items()):
        wanted = min(quantity, available_quantity(item=item_id))
        if wanted > 0:
            inventory.reserve(item=item_id, quantity=wanted, demand_type=DEMAND_TYPE, demand_id=work_order.pk, user=user)
    for item_id, quantity in unissued.items():
        WorkOrderMaterial.objects.filter(
            work_order=work_order, operation_sequence=operation.sequence, item_id=item_id
        ).update(quantity_issued=F("quantity_issued") - quantity)
    ReportGenealogy.objects.filter(report=original).update(reversed_at=timezone.now(), reversed_by=reversal)

    operation.quantity_good -= original.quantity_good
    operation.quantity_scrap -= original.quantity_scrap
    operation.save(update_fields=["quantity_good", "quantity_scrap", "updated_at"])
    record_event(
        type="production.reversed",
        aggregate_type="work_order_operation",
        aggregate_id=operation.pk,
        payload={
            "report_id": reversal.pk,
            "reverses": original.pk,
            "work_order_id": work_order.pk,
            "operation_id": operation.pk,
            "operation_sequence": operation.sequence,
            "item_id": work_order.item_id,
            "quantity_good": str(original.quantity_good),
            "quantity_scrap": str(original.quantity_scrap),
            "reason": reason,
        },
        actor=acting_user(user),
    )
    return reversal


def check_not_used_downstream(
    original: ProductionReport, outputs: list[ReportOutput], operation: WorkOrderOperation, following: WorkOrderOperation
) -> None:
    serials = [row.serial_id for row in outputs if row.serial_id and row.action in GOOD_ACTIONS]
    if serials:
        used = list(
            ReportOutput.objects.filter(
                report__operation=following,
                report__kind=ProductionReport.Kind.REPORT,
                report__reversed_by__isnull=True,
                serial_id__in=serials,
            ).values_list("serial__code", flat=True)
        )
        if used:
            raise ApplicationError(
                f"Operation {following.sequence} has already handled serial(s) {', '.join(sorted(used))} of this report: "
                "reverse its reports first.",
                code=errors.OUTPUT_USED_DOWNSTREAM,
                extra={"serial_codes": sorted(used), "operation_id": following.pk},
            )
        return
    left = operation.quantity_good - original.quantity_good
    handled = following.quantity_good + following.quantity_scrap
    if handled > left:
        raise ApplicationError(
            f"Operation {following.sequence} has handled {handled} units; without this report operation "
            f"{operation.sequence} would have passed on only {left}. Reverse the later reports first.",
            code=errors.OUTPUT_USED_DOWNSTREAM,
            extra={"operation_id": following.pk, "handled": str(handled), "left": str(left)},
        )
