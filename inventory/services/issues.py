"""Stock going out: issues to production and scrap."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from inventory import errors
from inventory.locks import lock_reservations
from inventory.models import Reservation, SerialNumber, StockMove
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
    serials_at,
)
from mes.errors import InvalidTransition
from mes.events import record_event
from mes.quantities import ZERO

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
    item = locked_item(item)
    quantity = c.check_quantity(item, quantity)
    location_id = getattr(location, "pk", location)
    c.require_no_tracking_input(item, lot=lot, serials=serials)
    lot = locked_lot(item, lot)
    serial_rows = relock_serials(c.find_serials(item, serials), item)
    c.require_serials(item, serial_rows, quantity)
    if serial_rows:
        serials_at(serial_rows, location_id, for_issue=True)
        lot = lot or lot_of(item, serial_rows)
    c.require_lot(item, lot)
    if lot is not None:
        c.check_lot_usable(lot)
    if reservation is not None:
        reservation = lock_reservations([reservation])[reservation.pk]
        if reservation.item_id != item.pk:
            raise errors.invalid("The reservation is for another item.", field="reservation", code=errors.WRONG_ITEM)
        if reservation.status != Reservation.Status.OPEN:
            raise InvalidTransition(entity="Reservation", current=reservation.status, target="consumed")
        if (reservation.lot_id and reservation.lot_id != getattr(lot, "pk", None)) or (
            reservation.location_id and reservation.location_id != location_id
        ):
            raise errors.invalid(
                "The reservation is for another lot or location.", field="reservation", code="reservation_scope"
            )

    stock = item_stock([item])[item.pk]
    available = stock.available(location_id, getattr(lot, "pk", None), getattr(reservation, "pk", None))
    if quantity > available:
        raise errors.InsufficientStock(
            shortages=[
                {
                    "item": item.pk,
                    "item_code": item.code,
                    "location": location_id,
                    "lot": getattr(lot, "pk", None),
                    "required": quantity,
                    "available": available,
                }
            ]
        )

    posting = c.Posting(
        item=item,
        user=user,
        reason=reason,
        work_order_id=work_order_id,
        operation_id=operation_id,
        document_type=document_type,
        document_id=str(document_id or ""),
        reservation=reservation,
    )
    if serial_rows:
        for serial in serial_rows:
            posting.add(kind=Kind.ISSUE, quantity=Decimal(1), from_location=location_id, lot=lot, serial=serial)
    else:
        posting.add(kind=Kind.ISSUE, quantity=quantity, from_location=location_id, lot=lot)
    consumed = ZERO
    if reservation is not None:
        consumed = min(reservation.remaining, quantity)
        pinned = pinned_key(reservation, item)
        if pinned is not None and consumed:
            posting.reserved_deltas[pinned] = -consumed
    posting.lock(posting.reserved_deltas)
    raise_shortfall(posting)
    moves = posting.write()
    for serial in serial_rows:
        c.serial_leaves_stock(serial, status=SerialNumber.Status.CONSUMED)
    if reservation is not None and consumed:
        reservation.quantity_consumed += consumed
        close_if_settled(reservation)
        reservation.save(update_fields=["quantity_consumed", "status", "closed_at"])
    refresh_lots(lot)
    payload = {**c.move_payload(moves), "reservation": getattr(reservation, "pk", None), "reservation_consumed": consumed}
    record_event(type="stock.issued", aggregate_type="item", aggregate_id=item.pk, payload=payload, actor=user)
    return moves


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
