"""Corrections: a move is never changed, it is reversed by its mirror image."""

from __future__ import annotations

from django.db import transaction

from inventory import errors
from inventory.locks import lock_lots, lock_serials
from inventory.models import SerialNumber, StockMove
from inventory.services import _common as c
from inventory.services._stock import (
    locked_item,
    raise_shortfall,
    refresh_lots,
)
from mes.events import record_event

Kind = StockMove.Kind


@transaction.atomic
def reverse_move(*, move: StockMove, reason: str, user) -> StockMove:
    """Correct a move by posting its mirror image (a ``reversal`` move); the original stays.

    Only the stock is restored: a reservation the move consumed stays consumed (reserve again),
    and genealogy links written with a production stay as history.
    """
    reason = c.check_reason(reason, what="a reversal")
    item = locked_item(move.item_id)
    original = StockMove.objects.select_for_update(of=("self",)).get(pk=move.pk)
    if original.kind == Kind.REVERSAL:
        raise errors.ReversalNotReversible(move=original)
    if StockMove.objects.filter(reverses=original).exists():
        raise errors.AlreadyReversed(move=original)
    lot = lock_lots([original.lot_id])[original.lot_id] if original.lot_id else None
    serial = lock_serials([original.serial_id])[original.serial_id] if original.serial_id else None
    for row in (lot, serial):
        if row is not None:
            row.item = item
    if serial is not None:
        if original.to_location_id is not None and serial.current_location_id != original.to_location_id:
            raise errors.SerialNotAvailable(serial=serial, why="is no longer where that move put it")
        if original.to_location_id is None and serial.current_location_id is not None:
            raise errors.SerialNotAvailable(serial=serial, why="is back in stock already")
    posting = c.Posting(
        item=item,
        user=user,
        reason=reason,
        work_order_id=original.work_order_id,
        operation_id=original.operation_id,
        document_type=original.document_type,
        document_id=original.document_id,
    )
    posting.add(
        kind=Kind.REVERSAL,
        quantity=original.quantity,
        from_location=original.to_location_id,
        to_location=original.from_location_id,
        lot=lot,
        serial=serial,
        reverses=original,
        reference=original.reference,
    )
    posting.lock()
    raise_shortfall(posting)
    (reversal,) = posting.write()
    if serial is not None:
        if original.from_location_id is not None:
            c.serial_enters_stock(serial, original.from_location_id)
        else:
            c.serial_leaves_stock(serial, status=SerialNumber.Status.CONSUMED)
    refresh_lots(lot)
    record_event(
        type="stock.reversed",
        aggregate_type="item",
        aggregate_id=item.pk,
        payload={**c.move_payload([reversal]), "reverses": original.pk, "reversed_kind": original.kind, "reason": reason},
        actor=user,
    )
    return reversal
