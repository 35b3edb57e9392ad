"""Stock moving inside the plant or found/missing at a count: transfers and adjustments."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from inventory import errors
from inventory.models import Lot, SerialNumber, StockMove
from inventory.services import _common as c
from inventory.services._stock import (
    locked_item,
    locked_lot,
    new_serials,
    raise_shortfall,
    refresh_lots,
    relock_serials,
    stock_leaving,
)
from mes.events import record_event

Kind = StockMove.Kind


@transaction.atomic
def transfer(
    *,
    item,
    from_location,
    to_location,
    quantity,
    lot=None,
    serials=None,
    reason: str = "",
    reference: str = "",
    user,
) -> list[StockMove]:
    """Move stock between locations. Held material may move (e.g. into quarantine)."""
    item = locked_item(item)
    quantity = c.check_quantity(item, quantity)
    from_id, to_id = getattr(from_location, "pk", from_location), getattr(to_location, "pk", to_location)
    if from_id == to_id:
        raise errors.invalid("From and to location are the same.", field="to_location", code=errors.SAME_LOCATION)
    c.require_no_tracking_input(item, lot=lot, serials=serials)
    lot, serial_rows = stock_leaving(item, lot=lot, serials=serials, quantity=quantity, location_id=from_id)
    posting = c.Posting(item=item, user=user, reason=reason, reference=reference)
    if serial_rows:
        for serial in serial_rows:
            posting.add(kind=Kind.TRANSFER, quantity=Decimal(1), from_location=from_id, to_location=to_id, lot=lot, serial=serial)
    else:
        posting.add(kind=Kind.TRANSFER, quantity=quantity, from_location=from_id, to_location=to_id, lot=lot)
    posting.lock()
    raise_shortfall(posting)
    moves = posting.write()
    for serial in serial_rows:
        c.serial_enters_stock(serial, to_id)
    record_event(type="stock.transferred", aggregate_type="item", aggregate_id=item.pk, payload=c.move_payload(moves), actor=user)
    return moves


@transaction.atomic
def adjust(
    *,
    item,
    location,
    quantity,
    reason: str,
    lot=None,
    serials=None,
    expires_on=None,
    reference: str = "",
    user,
) -> list[StockMove]:
    """A counted difference: ``quantity`` is signed (found +, missing −); ``reason`` is required.

    A positive adjustment creates the lot when new; its serials may be new or out of stock.
    """
    item = locked_item(item)
    reason = c.check_reason(reason, what="a stock adjustment")
    quantity = c.check_quantity(item, quantity, allow_negative=True)
    c.require_no_tracking_input(item, lot=lot, serials=serials)
    location_id = getattr(location, "pk", location)
    posting = c.Posting(item=item, user=user, reason=reason, reference=reference)
    serial_rows: list[SerialNumber] = []
    if quantity > 0:
        if isinstance(lot, Lot):
            lot = locked_lot(item, lot, field="lot_code")
        elif lot:
            lot = c.get_or_create_lot(item, lot, expires_on=expires_on)
        c.require_lot(item, lot, field="lot_code")
        codes = c.clean_serial_codes(item, [getattr(s, "code", s) for s in (serials or [])], quantity)
        existing = {s.code: s for s in SerialNumber.objects.filter(item=item, code__in=codes)}
        serial_rows = relock_serials(list(existing.values()), item)
        in_stock = sorted(s.code for s in serial_rows if s.current_location_id is not None)
        if in_stock:
            raise errors.SerialAlreadyExists(item=item, codes=in_stock)
        new_codes = [code for code in codes if code not in existing]
        serial_rows += new_serials(item, new_codes, lot=lot, location_id=location_id)
        for serial in serial_rows:
            if serial.lot_id != (lot.pk if lot else None):
                raise errors.invalid(f"Serial {serial.code} belongs to another lot.", field="serial_codes", code="mixed_lots")
        if serial_rows:
            for serial in serial_rows:
                posting.add(kind=Kind.ADJUSTMENT, quantity=Decimal(1), to_location=location_id, lot=lot, serial=serial)
        else:
            posting.add(kind=Kind.ADJUSTMENT, quantity=quantity, to_location=location_id, lot=lot)
    else:
        quantity = -quantity
        lot, serial_rows = stock_leaving(item, lot=lot, serials=serials, quantity=quantity, location_id=location_id)
        if serial_rows:
            for serial in serial_rows:
                posting.add(kind=Kind.ADJUSTMENT, quantity=Decimal(1), from_location=location_id, lot=lot, serial=serial)
        else:
            posting.add(kind=Kind.ADJUSTMENT, quantity=quantity, from_location=location_id, lot=lot)
    posting.lock()
    raise_shortfall(posting)
    moves = posting.write()
    for serial in serial_rows:
        if moves[0].to_location_id:
            c.serial_enters_stock(serial, location_id)
        else:
            c.serial_leaves_stock(serial, status=SerialNumber.Status.CONSUMED)
    refresh_lots(lot)
    payload = {**c.move_payload(moves), "reason": reason, "direction": "in" if moves[0].to_location_id else "out"}
    record_event(type="stock.adjusted", aggregate_type="item", aggregate_id=item.pk, payload=payload, actor=user)
    return moves
