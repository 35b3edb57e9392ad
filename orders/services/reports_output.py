"""The product's own units in a production report: produced at the first operation, passed on
(or counted where they already are) and scrapped at later ones, written as ReportOutput rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from inventory import services as inventory
from inventory.models import Item, Lot, SerialNumber
from mes import sql
from mes.errors import InvalidInput
from orders.models import ReportOutput, ScrapReason, WorkOrder, WorkOrderOperation
from orders.services.execution import RouteStep
from orders.services.report_checks import DOCUMENT_TYPE, staging_location
from orders.services.report_checks_waiting import waiting_lot, waiting_serials


@dataclass
class Output:
    """Moves (or counts) of the product's own units, written as ReportOutput rows."""

    rows: list[ReportOutput] = field(default_factory=list)
    lots: dict[int, Lot] = field(default_factory=dict)
    serials: list[SerialNumber] = field(default_factory=list)

    def add(self, *, action, item, quantity, location_id=None, lot=None, serial=None, move=None) -> None:
        self.rows.append(
            sql.new_row(ReportOutput, action=action, item=item, quantity=quantity, location_id=location_id, lot=lot, serial=serial, move=move)
        )
        if action != ReportOutput.Action.SCRAPPED:
            if serial is not None:
                self.serials.append(serial)
            elif lot is not None:
                self.lots[lot.pk] = lot


def post_output(
    output: Output,
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
    production_location_id: int | None,
    refs: dict,
    user,
    locked_items: dict[int, Item] | None = None,
    locked_balances: dict | None = None,
) -> None:
    """The product's own units: produced (first operation), passed on or scrapped (later ones).
    ``locked_items``: items the report has locked, by id; ``locked_balances``: balances it has
    locked, by (item id, location id, lot id) (neither locked again)."""
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
                savepoint=False,  # a refusal rolls the whole report back
                locked_items=locked_items,
                locked_balances=locked_balances,
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

    waiting_at = staging_location(here, production_location_id)
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


def _pass_serials(output: Output, product: Item, serials: list[SerialNumber], to_location: int, refs: dict, user) -> None:
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
