"""Production reports: what a running operation made, from what, and their reversal.

One report is one transaction: the stock moves (issues consuming the order's reservations,
production output, passing units on, scrap), balances, genealogy links, the operation's
counters and the ``production.reported`` event all commit together, or nothing does.

How units flow through a work order's operations
------------------------------------------------
* The **first** operation makes the units: its good quantity is *produced* into stock (new
  serial numbers, a lot, or a plain quantity). Scrap reported there never existed as stock.
* A **later** operation reports against units the previous operation passed on: for a
  serial-tracked product it names those serials (``produced_serials`` are existing serials of
  this work order waiting at this operation, ``scrapped_serials`` the ones it scrapped); for a
  lot it names the lot (or the only lot waiting); otherwise it counts. Good units are *passed
  on*, scrapped ones are scrapped out of stock.
* Where units are: the output of an operation goes to the line side of the next operation's work
  center (or, without one, the first location whose purpose is ``production``); the output of
  the **last** operation goes into the finished-goods location (purpose ``finished_goods``), so
  finished goods are in stock report by report and the order's completion lists them.

Components
----------
* Only components of the order's frozen material requirements for this operation's sequence
  may be consumed (else 409 ``wrong_item``). Lots and serials are scanned by code; the location
  is found from stock: the work center's line side first, then other line-side locations, then
  wherever most of it is (a lot may be drawn from several locations).
* Untracked components not named in the report are backflushed: the frozen requirement per
  ordered unit times the good + scrap units reported, rounded cumulatively to what the unit
  counts (so the total backflushed for the full order quantity is the requirement).
* Issues consume the order's open reservations of that item first.

Limits: an operation's good total may not pass the order quantity plus
``settings.MES_OVER_REPORT_TOLERANCE_PERCENT``, and a later operation may not handle (good +
scrap) more units than the previous one passed on (409 ``over_report``).

Locks: the operation and its predecessor (by pk), then the inventory services' locks, which are
taken item by item in item-pk order (every report and reversal calls them in that order), so
concurrent reports cannot deadlock and two tablets reporting on one operation serialise on the
operation row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from inventory import services as inventory
from inventory.models import GenealogyLink, Item, Lot, SerialNumber, StockMove
from mes.errors import ApplicationError, InvalidInput
from mes.events import record_event
from mes.quantities import ZERO
from orders import errors
from orders.models import (
    OperationStatus,
    ProductionReport,
    ReportConsumption,
    ReportGenealogy,
    ReportOutput,
    ScrapReason,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderOperation,
    WorkOrderStatus,
)
from orders.services.execution import RouteStep, lock_operations, make_ready, neighbours
from orders.services.report_checks import (
    DOCUMENT_TYPE,
    GOOD_ACTIONS,
    HANDLED_ACTIONS,
    ConsumedEntry,
    acting_user,
    allocate,
    backflush,
    check_limits,
    check_output_input,
    counted,
    finished_goods_location,
    genealogy_nodes,
    open_reservations,
    parse_consumed,
    resolve_scrap_reason,
    staging_location,
    to_decimal,
    waiting_lot,
    waiting_serials,
)

__all__ = ["DOCUMENT_TYPE", "GOOD_ACTIONS", "HANDLED_ACTIONS", "production_report_create", "report_links", "report_moves"]

@dataclass
class _Output:
    """Moves (or counts) of the product's own units, written as ReportOutput rows."""

    rows: list[ReportOutput] = field(default_factory=list)
    lots: dict[int, Lot] = field(default_factory=dict)
    serials: list[SerialNumber] = field(default_factory=list)

    def add(self, *, action, item, quantity, location_id=None, lot=None, serial=None, move=None) -> None:
        self.rows.append(
            ReportOutput(action=action, item=item, quantity=quantity, location_id=location_id, lot=lot, serial=serial, move=move)
        )
        if action != ReportOutput.Action.SCRAPPED:
            if serial is not None:
                self.serials.append(serial)
            elif lot is not None:
                self.lots[lot.pk] = lot


@transaction.atomic
def production_report_create(
    *,
    operation: WorkOrderOperation | int,
    user,
    quantity_good,
    quantity_scrap=ZERO,
    scrap_reason=None,
    consumed=(),
    produced_serials=(),
    produced_lot_code: str | None = None,
    scrapped_serials=(),
    labor_minutes=None,
    recorded_at: dt.datetime | None = None,
) -> ProductionReport:
    """Record what a running operation made (see the module's description). Refusals: 409
    ``operation_not_running``, ``work_order_not_runnable``, ``over_report``, ``wrong_item``,
    ``lot_on_hold``, ``serial_on_hold``, ``lot_expired``, ``insufficient_stock``,
    ``serial_already_exists``, ``serial_not_at_operation``; 400 for malformed input
    (``scrap_reason_required``, ``serial_count_mismatch``, ``lot_not_found`` …)."""
    operation_id = getattr(operation, "pk", operation)
    previous_step, next_step = neighbours(operation_id)
    locked = lock_operations([operation_id] + ([previous_step.pk] if previous_step else []))
    operation = locked[operation_id]
    previous = locked.get(previous_step.pk) if previous_step else None
    work_order = operation.work_order
    product = work_order.item
    if operation.status != OperationStatus.RUNNING:
        raise ApplicationError(
            f"Operation {operation.sequence} of {work_order.number} is {operation.status}: reports go to a running operation.",
            code=errors.OPERATION_NOT_RUNNING,
            extra={"current_status": operation.status},
        )
    if work_order.status != WorkOrderStatus.IN_PROGRESS:
        raise ApplicationError(
            f"Work order {work_order.number} is {work_order.status}: nothing can be reported on it.",
            code=errors.WORK_ORDER_NOT_RUNNABLE,
            extra={"work_order_status": work_order.status},
        )
    good = counted(product, quantity_good, field="quantity_good")
    scrap = counted(product, quantity_scrap, field="quantity_scrap")
    if good == 0 and scrap == 0:
        raise InvalidInput("Report a good or a scrap quantity.", field="quantity_good", code=errors.NOTHING_REPORTED)
    reason = resolve_scrap_reason(scrap, scrap_reason)
    labor = None
    if labor_minutes not in (None, ""):
        labor = to_decimal(labor_minutes, field="labor_minutes")
        if labor < 0 or labor >= Decimal(10) ** 8:
            raise InvalidInput("Labour minutes must be zero or more.", field="labor_minutes", code="invalid")
        labor = labor.quantize(Decimal("0.01"))
    produced_codes = [str(code).strip() for code in (produced_serials or [])]
    scrapped_codes = [str(code).strip() for code in (scrapped_serials or [])]
    produced_lot_code = (produced_lot_code or "").strip() or None
    check_output_input(product, good, scrap, produced_codes, scrapped_codes, produced_lot_code, first=previous is None)
    check_limits(operation, previous, good, scrap)

    materials = {
        m.item_id: m
        for m in WorkOrderMaterial.objects.filter(work_order=work_order, operation_sequence=operation.sequence).select_related(
            "item", "item__unit"
        )
    }
    here = RouteStep(operation.pk, operation.sequence, operation.work_center.line_side_location_id)
    entries = parse_consumed(consumed, materials, operation)
    before = operation.quantity_good + operation.quantity_scrap
    entries += backflush(materials, entries, work_order, before, before + good + scrap)
    allocate(entries, here.line_side_location_id)
    output_location = finished_goods_location() if next_step is None else staging_location(next_step)

    report = ProductionReport.objects.create(
        operation=operation,
        work_order=work_order,
        quantity_good=good,
        quantity_scrap=scrap,
        scrap_reason=reason,
        labor_minutes=labor,
        user=acting_user(user),
        recorded_at=recorded_at,
    )
    refs = {
        "work_order_id": work_order.pk,
        "operation_id": operation.pk,
        "document_type": DOCUMENT_TYPE,
        "document_id": str(report.pk),
    }

    # Every stock service is called item by item in item-pk order (the product's own units at
    # the product's place in that order), so reports never wait on each other in a cycle.
    by_item: dict[int, list[ConsumedEntry]] = defaultdict(list)
    for entry in entries:
        by_item[entry.item.pk].append(entry)
    reservations = open_reservations(work_order, by_item)
    consumption: list[ReportConsumption] = []
    issued: dict[int, Decimal] = defaultdict(lambda: ZERO)
    output = _Output()
    for item_id in sorted({*by_item, product.pk}):
        if item_id == product.pk:
            _post_output(
                output,
                operation=operation,
                previous=previous,
                here=here,
                work_order=work_order,
                good=good,
                scrap=scrap,
                reason=reason,
                produced_codes=produced_codes,
                scrapped_codes=scrapped_codes,
                produced_lot_code=produced_lot_code,
                output_location=output_location,
                refs=refs,
                user=user,
            )
        for entry in by_item.get(item_id, ()):
            for moves, backflushed in _issue(entry, reservations.get(item_id, []), refs, user):
                for move in moves:
                    issued[item_id] += move.quantity
                    consumption.append(
                        ReportConsumption(
                            report=report,
                            item=entry.item,
                            lot=move.lot,
                            serial=move.serial,
                            location_id=move.from_location_id,
                            quantity=move.quantity,
                            backflushed=backflushed,
                            move=move,
                        )
                    )

    links = inventory.link_consumed(
        consumed=genealogy_nodes(entries, [s.code for s in output.serials]),
        produced_lot=next(iter(output.lots.values()), None) if not output.serials else None,
        produced_serials=output.serials,
        **refs,
    ) if output.serials or output.lots else []
    ReportConsumption.objects.bulk_create(consumption)
    for row in output.rows:
        row.report = report
    ReportOutput.objects.bulk_create(output.rows)
    ReportGenealogy.objects.bulk_create([ReportGenealogy(report=report, link=link) for link in links])
    # The operation's lock covers its materials: only reports and reversals on it change them.
    for item_id, quantity in issued.items():
        materials[item_id].quantity_issued += quantity
    WorkOrderMaterial.objects.bulk_update([materials[item_id] for item_id in issued], ["quantity_issued"])

    operation.quantity_good += good
    operation.quantity_scrap += scrap
    operation.save(update_fields=["quantity_good", "quantity_scrap", "updated_at"])
    if good > 0 and next_step is not None:
        make_ready(operation_id=next_step.pk, user=user, reason=f"operation {operation.sequence} reported good output")

    record_event(
        type="production.reported",
        aggregate_type="work_order_operation",
        aggregate_id=operation.pk,
        payload={
            "report_id": report.pk,
            "work_order_id": work_order.pk,
            "operation_id": operation.pk,
            "operation_sequence": operation.sequence,
            "item_id": product.pk,
            "quantity_good": str(good),
            "quantity_scrap": str(scrap),
            "produced_lots": [{"id": lot.pk, "code": lot.code} for lot in output.lots.values()],
            "produced_serials": [{"id": serial.pk, "code": serial.code} for serial in output.serials],
        },
        actor=acting_user(user),
    )
    report._links = links  # the serializer shows them without reading them back
    report._consumption = consumption
    report._outputs = output.rows
    return report


def _issue(entry: ConsumedEntry, reservations: list[list], refs: dict, user):
    """Issue one consumed entry, location by location, consuming the order's reservations first."""
    for location_id, quantity in entry.allocations:
        reservation = None
        while reservations and reservations[0][1] <= 0:
            reservations.pop(0)
        if reservations:
            reservation = reservations[0][0]
        moves = inventory.issue(
            item=entry.item,
            location=location_id,
            quantity=quantity,
            lot=entry.lot,
            serials=[entry.serial] if entry.serial is not None else None,
            reservation=reservation,
            user=user,
            **refs,
        )
        if reservation is not None:
            reservations[0][1] -= quantity
        yield moves, entry.index is None


def _post_output(
    output: _Output,
    *,
    operation: WorkOrderOperation,
    previous: WorkOrderOperation | None,
    here: RouteStep,
    work_order: WorkOrder,
    good: Decimal,
    scrap: Decimal,
    reason: ScrapReason | None,
    produced_codes: list[str],
    scrapped_codes: list[str],
    produced_lot_code: str | None,
    output_location: int,
    refs: dict,
    user,
) -> None:
    product = work_order.item
    if previous is None:
        if good > 0:
            moves = inventory.produce(
                item=product,
                location=output_location,
                quantity=good,
                lot_code=produced_lot_code,
                serial_codes=produced_codes or None,
                user=user,
                **refs,
            )
            for move in moves:
                output.add(
                    action=ReportOutput.Action.PRODUCED,
                    item=product,
                    quantity=move.quantity,
                    location_id=move.to_location_id,
                    lot=move.lot,
                    serial=move.serial,
                    move=move,
                )
        return

    waiting_at = staging_location(here)
    scrap_reason_text = f"{reason.code} {reason.name}" if reason is not None else ""
    if product.tracking == Item.Tracking.SERIAL:
        passed = waiting_serials(
            work_order=work_order, previous=previous, operation=operation, codes=produced_codes, field="produced_serials"
        )
        scrapped = waiting_serials(
            work_order=work_order, previous=previous, operation=operation, codes=scrapped_codes, field="scrapped_serials"
        )
        if {s.pk for s in passed} & {s.pk for s in scrapped}:
            raise InvalidInput("A serial number cannot be both good and scrapped.", field="scrapped_serials", code="duplicate_serial")
        _pass_serials(output, product, passed, output_location, refs, user)
        by_location: dict[tuple[int, int | None], list[SerialNumber]] = defaultdict(list)
        for serial in scrapped:
            by_location[(serial.current_location_id, serial.lot_id)].append(serial)
        for (location_id, _), serials in sorted(by_location.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
            moves = inventory.scrap(
                item=product, location=location_id, quantity=Decimal(len(serials)), reason=scrap_reason_text,
                serials=serials, user=user, **refs,
            )
            for move in moves:
                output.add(action=ReportOutput.Action.SCRAPPED, item=product, quantity=move.quantity, lot=move.lot, serial=move.serial, move=move)
        return

    lot = waiting_lot(work_order=work_order, previous=previous, code=produced_lot_code) if product.tracking == Item.Tracking.LOT else None
    if good > 0:
        if waiting_at == output_location:
            output.add(action=ReportOutput.Action.COUNTED, item=product, quantity=good, location_id=waiting_at, lot=lot)
        else:
            (move,) = inventory.transfer(
                item=product, from_location=waiting_at, to_location=output_location, quantity=good, lot=lot,
                reason=f"operation {operation.sequence} of {work_order.number}", reference=f"{DOCUMENT_TYPE}:{refs['document_id']}",
                user=user,
            )
            output.add(action=ReportOutput.Action.PASSED, item=product, quantity=good, location_id=output_location, lot=lot, move=move)
    if scrap > 0:
        (move,) = inventory.scrap(
            item=product, location=waiting_at, quantity=scrap, reason=scrap_reason_text, lot=lot, user=user, **refs
        )
        output.add(action=ReportOutput.Action.SCRAPPED, item=product, quantity=scrap, lot=lot, move=move)


def _pass_serials(output: _Output, product: Item, serials: list[SerialNumber], to_location: int, refs: dict, user) -> None:
    groups: dict[tuple[int, int | None], list[SerialNumber]] = defaultdict(list)
    for serial in serials:
        groups[(serial.current_location_id, serial.lot_id)].append(serial)
    passed: dict[int, ReportOutput] = {}
    for (location_id, _), rows in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        if location_id == to_location:
            for serial in rows:
                passed[serial.pk] = (ReportOutput.Action.COUNTED, location_id, None)
            continue
        moves = inventory.transfer(
            item=product, from_location=location_id, to_location=to_location, quantity=Decimal(len(rows)), serials=rows,
            reason=f"passed on by {DOCUMENT_TYPE} {refs['document_id']}", reference=f"{DOCUMENT_TYPE}:{refs['document_id']}", user=user,
        )
        for move in moves:
            passed[move.serial_id] = (ReportOutput.Action.PASSED, to_location, move)
    for serial in serials:  # in the order the operator listed them
        action, location_id, move = passed[serial.pk]
        output.add(action=action, item=product, quantity=Decimal(1), location_id=location_id, lot=serial.lot, serial=serial, move=move)


def report_moves(report: ProductionReport) -> list[StockMove]:
    """The stock moves a report made, in ledger order."""
    ids = [*report.consumed.values_list("move_id", flat=True), *report.outputs.exclude(move=None).values_list("move_id", flat=True)]
    return list(StockMove.objects.filter(pk__in=ids).select_related("item", "lot", "serial").order_by("pk"))


def report_links(report: ProductionReport) -> list[GenealogyLink]:
    return list(GenealogyLink.objects.filter(report_link__report=report).order_by("pk"))
