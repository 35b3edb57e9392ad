"""The plan of each line of a batch issue (:func:`inventory.services.issues.issue_lines`): its
locked rows, its reservation, and the checks that make the batch refuse what issuing the lines
one by one would refuse."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from inventory import errors
from inventory.models import Item, Lot, Reservation, SerialNumber, StockMove
from inventory.services import _common as c
from inventory.services._stock import pinned_key
from mes import sql
from mes.errors import InvalidTransition, NotFound
from mes.quantities import ZERO

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


@dataclass
class IssuePlan:
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


def lots_that_may_change(plans: list[IssuePlan], balances: dict) -> list[Lot]:
    """The issued lots whose status may follow from this issue: a lot that was available and
    still has stock where it was issued from stays available (it was checked not held)."""
    still_stocked = {key[2] for key, balance in balances.items() if key[2] is not None and balance.quantity > 0}
    return [
        plan.lot
        for plan in plans
        if plan.lot is not None and not (plan.lot.status == Lot.Status.AVAILABLE and plan.lot.pk in still_stocked)
    ]


def found_item(items: dict[int, Item], item) -> Item:
    pk = getattr(item, "pk", item)
    if pk not in items:
        raise NotFound(f"Item {pk} does not exist.")
    return items[pk]


def lock_named_lots(plans: list[IssuePlan], *, locked: dict[int, Lot] | None = None) -> dict[int, Lot]:
    """The lots the lines name (Lot objects or codes), locked in one query; keyed by id(plan).
    ``locked``: lots the caller has locked in this transaction, by pk, not read again."""
    locked = locked or {}
    pks: list[int] = []
    codes: list[tuple[int, str]] = []
    for plan in plans:
        lot = plan.line.lot
        if lot in (None, ""):
            continue
        if isinstance(lot, Lot):
            if lot.item_id != plan.item.pk:
                raise errors.invalid(f"Lot {lot.code} is not a lot of {plan.item.code}.", field="lot", code=errors.WRONG_ITEM)
            if lot.pk not in locked:
                pks.append(lot.pk)
        else:
            codes.append((plan.item.pk, str(lot)))
    rows = []
    if pks or codes:
        where = [f"l.id IN ({sql.in_list(pks)})"] + ["(l.item_id = %s AND l.code = %s)"] * len(codes)
        rows = sql.fetch_models(
            f"SELECT {sql.select_columns(Lot, 'l')} FROM inventory_lot l WHERE {' OR '.join(where)} ORDER BY l.id {sql.for_update('l')}",
            [*pks, *(value for pair in codes for value in pair)],
            [Lot],
        )
    by_pk = {**locked, **{row.pk: row for row in rows}}
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


def reservations_read(plans: list[IssuePlan], demand: tuple[str, int] | None) -> tuple[str, list, list] | None:
    """The read that locks, by pk, the reservations :func:`take_reservations` may take: the lines'
    own, and with ``demand`` every open reservation of the lines' items (under the items' locks
    nobody else can be changing them); ``None`` when there are none to read. As ``(sql, params,
    parts)`` for ``mes.sql.fetch_together``."""
    named = [p.line.reservation.pk for p in plans if p.line.reservation is not None]
    if not named and demand is None:
        return None
    where, params = f"r.id IN ({sql.in_list(named)})", list(named)
    if demand is not None:
        items = sorted({p.item.pk for p in plans})
        where += f" OR (r.status = %s AND r.item_id IN ({sql.in_list(items)}))"
        params += [Reservation.Status.OPEN.value, *items]
    text = f"SELECT {sql.select_columns(Reservation, 'r')} FROM inventory_reservation r WHERE {where} ORDER BY r.id {sql.for_update('r')}"
    return text, params, [Reservation]


def take_reservations(plans: list[IssuePlan], demand: tuple[str, int] | None, rows: list[Reservation] | None) -> list[Reservation] | None:
    """Each line's reservation: its own, or (with ``demand``) the demand's oldest open one of its
    item with some left after the lines before it, from ``rows`` (:func:`reservations_read`'s).

    With ``demand``, every open reservation of the lines' items is returned, for the availability
    check to count without reading them again; else ``None``."""
    if rows is None:
        return None
    items = sorted({p.item.pk for p in plans})
    locked = {r.pk: r for r in rows}
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
    if demand is None:
        return None
    return [r for r in rows if r.status == Reservation.Status.OPEN and r.item_id in items]


def _check_reservation(plan: IssuePlan) -> None:
    reservation = plan.reservation
    if reservation.item_id != plan.item.pk:
        raise errors.invalid("The reservation is for another item.", field="reservation", code=errors.WRONG_ITEM)
    if reservation.status != Reservation.Status.OPEN:
        raise InvalidTransition(entity="Reservation", current=reservation.status, target="consumed")
    if (reservation.lot_id and reservation.lot_id != getattr(plan.lot, "pk", None)) or (
        reservation.location_id and reservation.location_id != plan.location_id
    ):
        raise errors.invalid("The reservation is for another lot or location.", field="reservation", code="reservation_scope")


def check_available(plan: IssuePlan, stock) -> None:
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
