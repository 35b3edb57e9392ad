"""Stock going out: issues to production and scrap."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from inventory import errors
from inventory.locks import (
    lock_item_balances,
    lock_items,
    lock_serials,
)
from inventory.models import Item, Lot, Reservation, SerialNumber, StockMove
from inventory.selectors.stock import item_stock
from inventory.services import _common as c
from inventory.services._stock import (
    close_if_settled,
    locked_item,
    locked_lot,
    lot_of,
    pinned_key,
    raise_shortfall,
    refresh_lots,
    relock_serials,
    serial_lots,
    serials_at,
)
from mes.errors import InvalidTransition, NotFound
from mes.events import record_event, record_events
from mes.quantities import ZERO
from mes.rows import update_rows

Kind = StockMove.Kind


@dataclass
class IssueLine:
    """One issue of :func:`issue_lines`: ``item`` (an Item or id) from ``location``; ``lot`` a Lot
    or a code of the item's lots; ``serials`` SerialNumbers or codes; ``reservation`` consumed
    first when given."""

    item: object
    location: object
    quantity: object
    lot: object = None
    serials: list | None = None
    reservation: Reservation | None = None


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
    caller whose transaction is rolled back whole on any refusal (a refusal leaves it unusable)."""
    if not lines:
        return []
    with transaction.atomic(savepoint=savepoint):
        return _issue_lines(lines, user=user, demand=demand, refs={
            "work_order_id": work_order_id,
            "operation_id": operation_id,
            "reason": reason,
            "document_type": document_type,
            "document_id": str(document_id or ""),
        })


def _issue_lines(lines: list[IssueLine], *, user, refs: dict, demand: tuple[str, int] | None) -> list[list[StockMove]]:
    items = lock_items([line.item for line in lines])
    plans = [_IssuePlan(line=line, item=_found_item(items, line.item)) for line in lines]
    for plan in plans:
        plan.quantity = c.check_quantity(plan.item, plan.line.quantity)
        plan.location_id = getattr(plan.line.location, "pk", plan.line.location)
        c.require_no_tracking_input(plan.item, lot=plan.line.lot, serials=plan.line.serials)
    lots = _lock_named_lots(plans)
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
    _take_reservations(plans, demand)

    stocks = item_stock(list(items.values()))
    postings: dict[int, c.Posting] = {}
    for plan in plans:
        _check_available(plan, stocks[plan.item.pk])
        posting = postings.get(plan.item.pk)
        if posting is None:
            posting = postings[plan.item.pk] = c.Posting(item=plan.item, user=user, **refs)
        plan.post(posting)
    balances = lock_item_balances(
        keys=[(item_id, *key) for item_id, p in postings.items() for key in (*p.deltas, *p.reserved_deltas)]
    )
    for item_id, posting in postings.items():
        posting.balances = {key[1:]: balance for key, balance in balances.items() if key[0] == item_id}
        raise_shortfall(posting)
    c.write_postings(list(postings.values()))

    consumed_serials = [serial for plan in plans for serial in plan.serials]
    for serial in consumed_serials:
        serial.current_location_id = None
        serial.status = SerialNumber.Status.CONSUMED
    if consumed_serials:
        update_rows(SerialNumber, consumed_serials, ["current_location", "status"])
    settled = {}
    for plan in plans:
        if plan.reservation is not None and plan.consumed:
            close_if_settled(plan.reservation)
            settled[plan.reservation.pk] = plan.reservation
    if settled:
        update_rows(Reservation, list(settled.values()), ["quantity_consumed", "status", "closed_at"])
    c.refresh_lot_statuses(_lots_that_may_change(plans, balances))
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


@dataclass
class _IssuePlan:
    line: IssueLine
    item: Item
    quantity: Decimal = ZERO
    location_id: int | None = None
    lot: Lot | None = None
    serials: list[SerialNumber] = field(default_factory=list)
    reservation: Reservation | None = None
    consumed: Decimal = ZERO
    moves: list[StockMove] = field(default_factory=list)

    def find_serials(self) -> list[SerialNumber]:
        self.serials = c.find_serials(self.item, self.line.serials)
        return self.serials

    def post(self, posting: c.Posting) -> None:
        refs = {"reservation": self.reservation}
        if self.serials:
            for serial in self.serials:
                self.moves.append(
                    posting.add(kind=Kind.ISSUE, quantity=Decimal(1), from_location=self.location_id, lot=self.lot, serial=serial, **refs)
                )
        else:
            self.moves.append(posting.add(kind=Kind.ISSUE, quantity=self.quantity, from_location=self.location_id, lot=self.lot, **refs))
        if self.reservation is not None:
            self.consumed = min(self.reservation.remaining, self.quantity)
            self.reservation.quantity_consumed += self.consumed  # seen by the next line of this reservation
            pinned = pinned_key(self.reservation, self.item)
            if pinned is not None and self.consumed:
                posting.reserved_deltas[pinned] = posting.reserved_deltas.get(pinned, ZERO) - self.consumed


def _lots_that_may_change(plans: list[_IssuePlan], balances: dict) -> list[Lot]:
    """The issued lots whose status may follow from this issue: a lot that was available and
    still has stock where it was issued from stays available (it was checked not held)."""
    still_stocked = {key[2] for key, balance in balances.items() if key[2] is not None and balance.quantity > 0}
    return [
        plan.lot
        for plan in plans
        if plan.lot is not None and not (plan.lot.status == Lot.Status.AVAILABLE and plan.lot.pk in still_stocked)
    ]


def _found_item(items: dict[int, Item], item) -> Item:
    pk = getattr(item, "pk", item)
    if pk not in items:
        raise NotFound(f"Item {pk} does not exist.")
    return items[pk]


def _lock_named_lots(plans: list[_IssuePlan]) -> dict[int, Lot]:
    """The lots the lines name (Lot objects or codes), locked in one query; keyed by id(plan)."""
    query = Q()
    for plan in plans:
        lot = plan.line.lot
        if lot in (None, ""):
            continue
        if isinstance(lot, Lot):
            if lot.item_id != plan.item.pk:
                raise errors.invalid(f"Lot {lot.code} is not a lot of {plan.item.code}.", field="lot", code=errors.WRONG_ITEM)
            query |= Q(pk=lot.pk)
        else:
            query |= Q(item_id=plan.item.pk, code=str(lot))
    if not query:
        return {}
    rows = list(Lot.objects.select_for_update(of=("self",)).filter(query).order_by("pk"))
    by_pk = {row.pk: row for row in rows}
    by_code = {(row.item_id, row.code): row for row in rows}
    out = {}
    for plan in plans:
        lot = plan.line.lot
        if lot in (None, ""):
            continue
        found = by_pk.get(lot.pk) if isinstance(lot, Lot) else by_code.get((plan.item.pk, str(lot)))
        if found is None:
            raise errors.invalid(f"{plan.item.code} has no lot {lot}.", field="lot", code=errors.LOT_NOT_FOUND)
        found.item = plan.item
        out[id(plan)] = found
    return out


def _take_reservations(plans: list[_IssuePlan], demand: tuple[str, int] | None) -> None:
    """Each line's reservation: its own, or (with ``demand``) the demand's oldest open one of its
    item with some left after the lines before it; all locked in one query, by pk."""
    named = [p.line.reservation.pk for p in plans if p.line.reservation is not None]
    query = Q(pk__in=named)
    if demand is not None:
        query |= Q(
            demand_type=demand[0],
            demand_id=demand[1],
            status=Reservation.Status.OPEN,
            item_id__in={p.item.pk for p in plans if p.line.reservation is None},
        )
    if not named and demand is None:
        return
    locked = {r.pk: r for r in Reservation.objects.select_for_update(of=("self",)).filter(query).order_by("pk")}
    pending: dict[int, list[list]] = {}
    if demand is not None:
        for reservation in locked.values():
            if (reservation.demand_type, reservation.demand_id) == tuple(demand) and reservation.status == Reservation.Status.OPEN:
                if reservation.remaining > 0:
                    pending.setdefault(reservation.item_id, []).append([reservation, reservation.remaining])
    for plan in plans:
        if plan.line.reservation is not None:
            plan.reservation = locked[plan.line.reservation.pk]
        else:
            queue = pending.get(plan.item.pk, [])
            while queue and queue[0][1] <= 0:
                queue.pop(0)
            if not queue:
                continue
            plan.reservation = queue[0][0]
            queue[0][1] -= plan.quantity
        _check_reservation(plan)


def _check_reservation(plan: _IssuePlan) -> None:
    reservation = plan.reservation
    if reservation.item_id != plan.item.pk:
        raise errors.invalid("The reservation is for another item.", field="reservation", code=errors.WRONG_ITEM)
    if reservation.status != Reservation.Status.OPEN:
        raise InvalidTransition(entity="Reservation", current=reservation.status, target="consumed")
    if (reservation.lot_id and reservation.lot_id != getattr(plan.lot, "pk", None)) or (
        reservation.location_id and reservation.location_id != plan.location_id
    ):
        raise errors.invalid("The reservation is for another lot or location.", field="reservation", code="reservation_scope")


def _check_available(plan: _IssuePlan, stock) -> None:
    """What the line may take, after the lines before it (the stock read is updated as each line
    is checked, as if the lines were issued one by one)."""
    lot_id = getattr(plan.lot, "pk", None)
    available = stock.available(plan.location_id, lot_id, getattr(plan.reservation, "pk", None))
    if plan.quantity > available:
        raise errors.InsufficientStock(
            shortages=[
                {
                    "item": plan.item.pk,
                    "item_code": plan.item.code,
                    "location": plan.location_id,
                    "lot": lot_id,
                    "required": plan.quantity,
                    "available": available,
                }
            ]
        )
    _take(stock, plan.location_id, lot_id, plan.quantity, getattr(plan.reservation, "pk", None))


def _take(stock, location_id: int, lot_id: int | None, quantity: Decimal, reservation_id: int | None) -> None:
    """``stock`` as it is once ``quantity`` left that balance, consuming the reservation first."""
    for row in stock.rows:
        if row.location_id == location_id and row.lot_id == lot_id:
            row.quantity -= quantity
            row.usable = max(row.usable - quantity, ZERO)
            break
    if reservation_id is not None:
        for index, (pk, r_location, r_lot, remaining) in enumerate(stock.reservations):
            if pk == reservation_id:
                stock.reservations[index] = (pk, r_location, r_lot, remaining - min(remaining, quantity))
                break


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
    lot = locked_lot(item, lot)
    serial_rows = relock_serials(c.find_serials(item, serials), item)
    c.require_serials(item, serial_rows, quantity)
    if serial_rows:
        serials_at(serial_rows, location_id, for_issue=False)
        lot = lot or lot_of(item, serial_rows)
    c.require_lot(item, lot)
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
