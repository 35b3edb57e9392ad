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

Locks: the operation and its predecessor (by pk), then the inventory services' locks, taken in
item-pk order: the components ordered before the product are issued in one batch (their items,
lots, serials, reservations and balances each locked in one query, by pk), then the product's
own units, then the components after it. Every report and reversal takes them in that order, so
concurrent reports cannot deadlock and two tablets reporting on one operation serialise on the
operation row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import connections, router, transaction
from django.utils import timezone

from inventory import services as inventory
from inventory.models import GenealogyLink, Item, StockMove
from mes import sql
from mes.errors import ApplicationError, InvalidInput
from mes.events import events_batched, record_event, write_with_events
from mes.quantities import ZERO
from mes.rows import update_statements
from orders import errors
from orders.models import (
    OperationStatus,
    ProductionReport,
    ReportConsumption,
    ReportGenealogy,
    ReportOutput,
    WorkOrderMaterial,
    WorkOrderOperation,
    WorkOrderStatus,
)
from orders.services.execution import RouteStep, make_ready
from orders.services.report_checks import (
    DEMAND_TYPE,
    DOCUMENT_TYPE,
    GOOD_ACTIONS,
    HANDLED_ACTIONS,
    acting_user,
    check_limits,
    check_output_input,
    counted,
    finished_goods_location,
    resolve_scrap_reason,
    staging_location,
    to_decimal,
)
from orders.services.report_checks_components import (
    ConsumedEntry,
    allocate,
    backflush,
    genealogy_nodes,
    parse_consumed,
    resolve_lots_and_serials,
)
from orders.services.report_operation import lock_reported_operation
from orders.services.reports_output import Output, post_output

__all__ = ["DOCUMENT_TYPE", "GOOD_ACTIONS", "HANDLED_ACTIONS", "production_report_create", "report_links", "report_moves"]

@transaction.atomic
@events_batched()  # the report's events (issues, output, the report) in one insert
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
    reported = lock_reported_operation(getattr(operation, "pk", operation))
    operation, previous, next_step = reported.operation, reported.previous, reported.next
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

    materials = reported.materials
    here = RouteStep(operation.pk, operation.sequence, operation.work_center.line_side_location_id)
    entries = parse_consumed(consumed, materials, operation)
    before = operation.quantity_good + operation.quantity_scrap
    entries += backflush(materials, entries, work_order, before, before + good + scrap)
    output_location = (
        finished_goods_location(reported.finished_goods_location_id)
        if next_step is None
        else staging_location(next_step, reported.production_location_id)
    )

    # The product's and the components' items are locked first, together, in item-pk order (as
    # every stock service locks items before their stock), so reports never wait on each other
    # in a cycle — with them the output location's balance that a first operation's new units
    # (serials, or untracked) go to; the scanned lots next, as they are read. The stock is then
    # posted in item order (the components before the product, the product's own units, then
    # the components after it) without locking the items, lots or that balance again.
    by_item: dict[int, list[ConsumedEntry]] = defaultdict(list)
    for entry in entries:
        by_item[entry.item.pk].append(entry)
    output_balance = [(product.pk, output_location, None)] if previous is None and good > 0 else []
    locked_items, locked_balances = inventory.lock_items_with_balances([product.pk, *by_item], balance_keys=output_balance)
    resolve_lots_and_serials(entries, lock_lots=True)
    allocate(entries, here.line_side_location_id)

    report = sql.new_row(
        ProductionReport,
        operation=operation,
        work_order=work_order,
        quantity_good=good,
        quantity_scrap=scrap,
        scrap_reason=reason,
        labor_minutes=labor,
        user=acting_user(user),
        recorded_at=recorded_at,
    )
    sql.insert_rows(ProductionReport, [report])
    refs = {
        "work_order_id": work_order.pk,
        "operation_id": operation.pk,
        "document_type": DOCUMENT_TYPE,
        "document_id": str(report.pk),
    }

    demand = (DEMAND_TYPE, work_order.pk)
    first = [e for item_id in sorted(by_item) if item_id < product.pk for e in by_item[item_id]]
    issues = list(_issue(first, demand, refs, user, locked_items))
    output = Output()
    post_output(
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
        production_location_id=reported.production_location_id,
        refs=refs,
        user=user,
        locked_items=locked_items,
        locked_balances=locked_balances,
    )
    last = [e for item_id in sorted(by_item) if item_id > product.pk for e in by_item[item_id]]
    issues += _issue(last, demand, refs, user, locked_items)
    consumption: list[ReportConsumption] = []
    issued: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for entry, moves in issues:
        for move in moves:
            issued[entry.item.pk] += move.quantity
            consumption.append(
                sql.new_row(
                    ReportConsumption,
                    report=report,
                    item=entry.item,
                    lot=move.lot,
                    serial=move.serial,
                    location_id=move.from_location_id,
                    quantity=move.quantity,
                    backflushed=entry.index is None,
                    move=move,
                )
            )

    for row in output.rows:
        row.report = report
    # The operation's lock covers its materials: only reports and reversals on it change them.
    for item_id, quantity in issued.items():
        materials[item_id].quantity_issued += quantity
    operation.quantity_good += good
    operation.quantity_scrap += scrap
    # The report's own rows, its materials and counters: writes that read nothing back, sent with
    # the genealogy links (one statement on PostgreSQL); the rows tying the links to the report
    # go with the report's events, at the end.
    writes = [
        sql.insert_statement(ReportConsumption, consumption),
        sql.insert_statement(ReportOutput, output.rows),
        update_statements(WorkOrderMaterial, [materials[item_id] for item_id in issued], ["quantity_issued"]),
        _counters_statement(operation),
    ]
    if output.serials or output.lots:
        links = inventory.link_consumed(
            consumed=genealogy_nodes(entries, [s.code for s in output.serials]),
            produced_lot=next(iter(output.lots.values()), None) if not output.serials else None,
            produced_serials=output.serials,
            produced_new=previous is None,
            also=writes,
            **refs,
        )
    else:
        links = []
        sql.write_together(*writes)
    write_with_events(sql.insert_statement(ReportGenealogy, [sql.new_row(ReportGenealogy, report=report, link=link) for link in links]))
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


_SAVE_COUNTERS = "UPDATE orders_workorderoperation SET quantity_good = %s, quantity_scrap = %s, updated_at = %s WHERE id = %s"


def _counters_statement(operation: WorkOrderOperation) -> list[tuple[str, list]]:
    """The UPDATE of the operation's good and scrap totals (and ``updated_at``)."""
    connection = connections[router.db_for_write(WorkOrderOperation)]
    operation.updated_at = timezone.now()
    fields = [WorkOrderOperation._meta.get_field(name) for name in ("quantity_good", "quantity_scrap", "updated_at")]
    return [(_SAVE_COUNTERS, [f.get_db_prep_save(getattr(operation, f.attname), connection) for f in fields] + [operation.pk])]


def _issue(entries: list[ConsumedEntry], demand: tuple[str, int], refs: dict, user, locked_items: dict[int, Item]):
    """Issue the entries, location by location, in one batch, consuming the order's reservations
    of each item first (oldest first); yields (entry, moves) per allocation. No savepoint: a
    refusal rolls the whole report back."""
    lines, owners = [], []
    for entry in entries:
        for location_id, quantity in entry.allocations:
            lines.append(
                inventory.IssueLine(
                    item=entry.item,
                    location=location_id,
                    quantity=quantity,
                    lot=entry.lot,
                    serials=[entry.serial] if entry.serial is not None else None,
                )
            )
            owners.append(entry)
    if lines:
        locked_lots = {entry.lot.pk: entry.lot for entry in entries if entry.lot is not None}
        issued = inventory.issue_lines(
            lines=lines, user=user, demand=demand, savepoint=False, locked_items=locked_items, locked_lots=locked_lots, **refs
        )
        yield from zip(owners, issued, strict=True)


def report_moves(report: ProductionReport) -> list[StockMove]:
    """The stock moves a report made, in ledger order."""
    ids = [*report.consumed.values_list("move_id", flat=True), *report.outputs.exclude(move=None).values_list("move_id", flat=True)]
    return list(StockMove.objects.filter(pk__in=ids).select_related("item", "lot", "serial").order_by("pk"))


def report_links(report: ProductionReport) -> list[GenealogyLink]:
    return list(GenealogyLink.objects.filter(report_link__report=report).order_by("pk"))
