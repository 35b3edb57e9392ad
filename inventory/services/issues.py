"""Stock going out: issues to production and scrap."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from inventory.locks import (
    lock_item_balances,
    lock_item_stock,
    lock_items,
    lock_serials,
)
from inventory.models import Item, Lot, Reservation, SerialNumber, StockMove
from inventory.selectors.stock import stocks_of
from inventory.services import _common as c
from inventory.services._issue_plan import (
    IssueLine,
    IssuePlan,
    check_available,
    found_item,
    lock_named_lots,
    lots_that_may_change,
    reservations_read,
    take_reservations,
)
from inventory.services._stock import (
    close_if_settled,
    locked_item,
    lot_of,
    raise_shortfall,
    refresh_lots,
    serial_lots,
    serials_at,
    stock_leaving,
)
from mes.events import record_event, record_events
from mes.rows import update_statements

Kind = StockMove.Kind


@transaction.atomic
def issue(
    *,
    item,
    location,
    quantity,
    lot=None,
    serials=None,
    work_order_id: int | None = None,
    operation_id: int | None = None,
    reservation: Reservation | None = None,
    reason: str = "",
    document_type: str = "",
    document_id: str = "",
    user,
) -> list[StockMove]:
    """Issue stock to production. Refuses held or expired lots, held serials, and stock that is
    reserved for someone else; when ``reservation`` is given, consumes it first."""
    (moves,) = issue_lines(
        lines=[IssueLine(item=item, location=location, quantity=quantity, lot=lot, serials=serials, reservation=reservation)],
        work_order_id=work_order_id,
        operation_id=operation_id,
        reason=reason,
        document_type=document_type,
        document_id=document_id,
        user=user,
    )
    return moves


def issue_lines(
    *,
    lines: list[IssueLine],
    work_order_id: int | None = None,
    operation_id: int | None = None,
    reason: str = "",
    document_type: str = "",
    document_id: str = "",
    user,
    demand: tuple[str, int] | None = None,
    savepoint: bool = True,
    locked_items: dict[int, Item] | None = None,
    locked_lots: dict[int, Lot] | None = None,
) -> list[list[StockMove]]:
    """Several issues (of one or many items) in one go, as if :func:`issue` were called line by
    line, with the same refusals, but every kind of row read and locked once for all the lines
    (items, lots, serials, reservations, balances, in that order, each by pk), the moves inserted
    together and the balances updated together. Returns the moves of each line, in line order;
    one ``stock.issued`` event per line.

    ``demand`` (demand type, demand id): a line without a reservation consumes that demand's open
    reservations of its item first, oldest first — each line the first one with some of it left
    for it, locked with the lines' own reservations in one query.

    ``savepoint=False``: inside a caller's transaction, take no savepoint of its own, for a
    caller whose transaction is rolled back whole on any refusal (a refusal leaves it unusable).

    ``locked_items``: items the caller has locked in this transaction (``lock_items``), by id;
    the lines' items among them are not locked again. ``locked_lots``: the same for lots (given
    as Lot objects on the lines), locked after their items."""
    if not lines:
        return []
    with transaction.atomic(savepoint=savepoint):
        return _issue_lines(lines, user=user, demand=demand, locked_items=locked_items or {}, locked_lots=locked_lots or {}, refs={
            "work_order_id": work_order_id,
            "operation_id": operation_id,
            "reason": reason,
            "document_type": document_type,
            "document_id": str(document_id or ""),
        })


def _issue_lines(
    lines: list[IssueLine],
    *,
    user,
    refs: dict,
    demand: tuple[str, int] | None,
    locked_items: dict[int, Item],
    locked_lots: dict[int, Lot],
) -> list[list[StockMove]]:
    wanted = {getattr(line.item, "pk", line.item) for line in lines}
    items = {pk: locked_items[pk] for pk in wanted if pk in locked_items}
    items |= lock_items(wanted - items.keys())
    plans = [IssuePlan(line=line, item=found_item(items, line.item)) for line in lines]
    for plan in plans:
        plan.quantity = c.check_quantity(plan.item, plan.line.quantity)
        plan.location_id = getattr(plan.line.location, "pk", plan.line.location)
        c.require_no_tracking_input(plan.item, lot=plan.line.lot, serials=plan.line.serials)
    lots = lock_named_lots(plans, locked=locked_lots)
    locked_serials = lock_serials([s for plan in plans for s in plan.find_serials()])
    serial_rows = list(locked_serials.values())
    serial_lot_map = serial_lots(serial_rows)
    for plan in plans:
        plan.lot = lots.get(id(plan))
        plan.serials = [locked_serials[s.pk] for s in plan.serials]
        for serial in plan.serials:
            serial.item = plan.item
        c.require_serials(plan.item, plan.serials, plan.quantity)
        if plan.serials:
            serials_at(plan.serials, plan.location_id, for_issue=True, lots=serial_lot_map)
            plan.lot = plan.lot or lot_of(plan.item, plan.serials, serial_lot_map)
        c.require_lot(plan.item, plan.lot)
        if plan.lot is not None:
            c.check_lot_usable(plan.lot)
    # The reservations the lines may take, then the stock with its balances, locked in one
    # statement: an issue posts on balances that hold stock.
    balances, reservation_rows = lock_item_stock(list(items.values()), before=reservations_read(plans, demand))
    open_reservations = take_reservations(plans, demand, None if reservation_rows is None else [row[0] for row in reservation_rows])
    stocks = stocks_of(list(items.values()), balances, open_reservations=open_reservations)
    stocked = {(b.item_id, b.location_id, b.lot_id): b for b in balances}
    postings: dict[int, c.Posting] = {}
    for plan in plans:
        check_available(plan, stocks[plan.item.pk])
        posting = postings.get(plan.item.pk)
        if posting is None:
            posting = postings[plan.item.pk] = c.Posting(item=plan.item, user=user, **refs)
        plan.post(posting)
    balances = lock_item_balances(
        keys=[(item_id, *key) for item_id, p in postings.items() for key in (*p.deltas, *p.reserved_deltas)], locked=stocked
    )
    for item_id, posting in postings.items():
        posting.balances = {key[1:]: balance for key, balance in balances.items() if key[0] == item_id}
        raise_shortfall(posting)
    consumed_serials = [serial for plan in plans for serial in plan.serials]
    for serial in consumed_serials:
        serial.current_location_id = None
        serial.status = SerialNumber.Status.CONSUMED
    settled = {}
    for plan in plans:
        if plan.reservation is not None and plan.consumed:
            close_if_settled(plan.reservation)
            settled[plan.reservation.pk] = plan.reservation
    # The moves, balances, consumed serials and reservations written together.
    c.write_postings(
        list(postings.values()),
        also=[
            update_statements(SerialNumber, consumed_serials, ["current_location", "status"]),
            update_statements(Reservation, list(settled.values()), ["quantity_consumed", "status", "closed_at"]),
        ],
    )
    c.refresh_lot_statuses(lots_that_may_change(plans, balances))
    record_events(
        [
            {
                "type": "stock.issued",
                "aggregate_type": "item",
                "aggregate_id": plan.item.pk,
                "payload": {
                    **c.move_payload(plan.moves),
                    "reservation": getattr(plan.reservation, "pk", None),
                    "reservation_consumed": plan.consumed,
                },
                "actor": user,
            }
            for plan in plans
        ]
    )
    return [plan.moves for plan in plans]


@transaction.atomic
def scrap(
    *,
    item,
    location,
    quantity,
    reason: str,
    lot=None,
    serials=None,
    work_order_id: int | None = None,
    operation_id: int | None = None,
    document_type: str = "",
    document_id: str = "",
    user,
) -> list[StockMove]:
    """Scrap stock (held material may be scrapped: that is a disposition); ``reason`` required."""
    item = locked_item(item)
    reason = c.check_reason(reason, what="scrapping stock")
    quantity = c.check_quantity(item, quantity)
    location_id = getattr(location, "pk", location)
    c.require_no_tracking_input(item, lot=lot, serials=serials)
    lot, serial_rows = stock_leaving(item, lot=lot, serials=serials, quantity=quantity, location_id=location_id)
    posting = c.Posting(
        item=item,
        user=user,
        reason=reason,
        work_order_id=work_order_id,
        operation_id=operation_id,
        document_type=document_type,
        document_id=str(document_id or ""),
    )
    if serial_rows:
        for serial in serial_rows:
            posting.add(kind=Kind.SCRAP, quantity=Decimal(1), from_location=location_id, lot=lot, serial=serial)
    else:
        posting.add(kind=Kind.SCRAP, quantity=quantity, from_location=location_id, lot=lot)
    posting.lock()
    raise_shortfall(posting)
    moves = posting.write()
    for serial in serial_rows:
        c.serial_leaves_stock(serial, status=SerialNumber.Status.SCRAPPED)
    refresh_lots(lot)
    record_event(
        type="stock.scrapped",
        aggregate_type="item",
        aggregate_id=item.pk,
        payload={**c.move_payload(moves), "reason": reason},
        actor=user,
    )
    return moves
