"""Stock movements: receive, transfer, adjust, issue, produce, scrap, reverse.

Each service is one transaction: lock the item (see ``inventory.locks``), lock the lot/serials
and the balances it changes, check, write the moves and the balances, record the event.
Lots and serials may be passed as objects or as codes of the item.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from inventory import errors
from inventory.locks import lock_items, lock_lots, lock_reservations, lock_serials
from inventory.models import Item, Lot, Reservation, SerialNumber, StockMove
from inventory.selectors.stock import item_stock
from inventory.services import _common as c
from mes.errors import InvalidTransition, NotFound
from mes.events import record_event
from mes.quantities import ZERO

Kind = StockMove.Kind


def _locked_item(item) -> Item:
    items = lock_items([item])
    pk = getattr(item, "pk", item)
    if pk not in items:
        raise NotFound(f"Item {pk} does not exist.")
    return items[pk]


def _relock_lot(lot: Lot | None, item: Item) -> Lot | None:
    if lot is None:
        return None
    locked = lock_lots([lot])[lot.pk]
    locked.item = item
    return locked


def _relock_serials(serials: list[SerialNumber], item: Item) -> list[SerialNumber]:
    locked = lock_serials(serials)
    out = []
    for serial in serials:
        row = locked[serial.pk]
        row.item = item
        out.append(row)
    return out


def _new_serials(item: Item, codes: list[str], *, lot: Lot | None, location_id: int) -> list[SerialNumber]:
    """Create serials that must not exist yet (receipt, production)."""
    taken = list(SerialNumber.objects.filter(item=item, code__in=codes).values_list("code", flat=True))
    if taken:
        raise errors.SerialAlreadyExists(item=item, codes=sorted(taken))
    serials = SerialNumber.objects.bulk_create(
        [
            SerialNumber(item=item, code=code, lot=lot, current_location_id=location_id, status=SerialNumber.Status.AVAILABLE)
            for code in codes
        ]
    )
    for serial in serials:
        serial.item = item
    return serials


def _serials_at(serials: list[SerialNumber], location_id: int, *, for_issue: bool) -> None:
    for serial in serials:
        if serial.current_location_id is None:
            raise errors.SerialNotAvailable(serial=serial, why=f"is not in stock (it is {serial.status})")
        if serial.current_location_id != location_id:
            raise errors.SerialNotAvailable(serial=serial, why="is not at that location")
        if for_issue and serial.status == SerialNumber.Status.ON_HOLD:
            raise errors.SerialOnHold(serial=serial, reasons=c.active_hold_reasons(serial=serial))
        if for_issue and serial.lot_id is not None:
            lot = Lot.objects.select_related("item").get(pk=serial.lot_id)
            c.check_lot_usable(lot)


def _lot_of(item: Item, serials: list[SerialNumber]) -> Lot | None:
    """Serials move per lot: a posting of several serials of different lots is split by the caller."""
    lot_ids = {s.lot_id for s in serials}
    if len(lot_ids) > 1:
        raise errors.invalid("These serials belong to different lots; move them lot by lot.", field="serials", code="mixed_lots")
    lot_id = next(iter(lot_ids), None)
    return Lot.objects.get(pk=lot_id) if lot_id else None


def _raise_shortfall(posting: c.Posting) -> None:
    shortages = posting.shortfall()
    if shortages:
        raise errors.InsufficientStock(shortages=shortages)


def _refresh_lots(*lots: Lot | None) -> None:
    for lot in {lot.pk: lot for lot in lots if lot is not None}.values():
        c.refresh_lot_status(lot)


@transaction.atomic
def receive(
    *,
    item,
    location,
    quantity,
    lot_code: str | None = None,
    serial_codes: list[str] | None = None,
    expires_on=None,
    supplier_lot: str = "",
    reference: str = "",
    unit: str | None = None,
    user,
) -> list[StockMove]:
    """Goods received into ``location``; creates the lot and the serials when new."""
    item = _locked_item(item)
    c.check_unit(item, unit)
    quantity = c.check_quantity(item, quantity)
    c.require_no_tracking_input(item, lot=lot_code, serials=serial_codes)
    codes = c.clean_serial_codes(item, serial_codes, quantity)
    if item.tracking == Item.Tracking.LOT and not lot_code:
        raise errors.invalid(f"{item.code} is lot-tracked: give the lot code.", field="lot_code", code=errors.LOT_REQUIRED)
    lot = c.get_or_create_lot(item, lot_code, expires_on=expires_on, supplier_lot=supplier_lot) if lot_code else None
    lot = _relock_lot(lot, item)
    posting = c.Posting(item=item, user=user, reference=reference)
    location_id = getattr(location, "pk", location)
    if codes:
        for serial in _new_serials(item, codes, lot=lot, location_id=location_id):
            posting.add(kind=Kind.RECEIPT, quantity=Decimal(1), to_location=location_id, lot=lot, serial=serial)
    else:
        posting.add(kind=Kind.RECEIPT, quantity=quantity, to_location=location_id, lot=lot)
    moves = posting.write()
    _refresh_lots(lot)
    record_event(type="stock.received", aggregate_type="item", aggregate_id=item.pk, payload=c.move_payload(moves), actor=user)
    return moves


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
    item = _locked_item(item)
    quantity = c.check_quantity(item, quantity)
    from_id, to_id = getattr(from_location, "pk", from_location), getattr(to_location, "pk", to_location)
    if from_id == to_id:
        raise errors.invalid("From and to location are the same.", field="to_location", code=errors.SAME_LOCATION)
    c.require_no_tracking_input(item, lot=lot, serials=serials)
    lot = _relock_lot(c.find_lot(item, lot), item)
    serial_rows = _relock_serials(c.find_serials(item, serials), item)
    c.require_serials(item, serial_rows, quantity)
    if serial_rows:
        _serials_at(serial_rows, from_id, for_issue=False)
        lot = lot or _lot_of(item, serial_rows)
    c.require_lot(item, lot)
    posting = c.Posting(item=item, user=user, reason=reason, reference=reference)
    if serial_rows:
        for serial in serial_rows:
            posting.add(kind=Kind.TRANSFER, quantity=Decimal(1), from_location=from_id, to_location=to_id, lot=lot, serial=serial)
    else:
        posting.add(kind=Kind.TRANSFER, quantity=quantity, from_location=from_id, to_location=to_id, lot=lot)
    posting.lock()
    _raise_shortfall(posting)
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
    item = _locked_item(item)
    reason = c.check_reason(reason, what="a stock adjustment")
    quantity = c.check_quantity(item, quantity, allow_negative=True)
    c.require_no_tracking_input(item, lot=lot, serials=serials)
    location_id = getattr(location, "pk", location)
    posting = c.Posting(item=item, user=user, reason=reason, reference=reference)
    serial_rows: list[SerialNumber] = []
    if quantity > 0:
        if isinstance(lot, Lot):
            lot = c.find_lot(item, lot)
        elif lot:
            lot = c.get_or_create_lot(item, lot, expires_on=expires_on)
        lot = _relock_lot(lot, item)
        c.require_lot(item, lot, field="lot_code")
        codes = c.clean_serial_codes(item, [getattr(s, "code", s) for s in (serials or [])], quantity)
        existing = {s.code: s for s in SerialNumber.objects.filter(item=item, code__in=codes)}
        serial_rows = _relock_serials(list(existing.values()), item)
        in_stock = sorted(s.code for s in serial_rows if s.current_location_id is not None)
        if in_stock:
            raise errors.SerialAlreadyExists(item=item, codes=in_stock)
        new_codes = [code for code in codes if code not in existing]
        serial_rows += _new_serials(item, new_codes, lot=lot, location_id=location_id)
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
        lot = _relock_lot(c.find_lot(item, lot), item)
        serial_rows = _relock_serials(c.find_serials(item, serials), item)
        c.require_serials(item, serial_rows, quantity)
        if serial_rows:
            _serials_at(serial_rows, location_id, for_issue=False)
            lot = lot or _lot_of(item, serial_rows)
            for serial in serial_rows:
                posting.add(kind=Kind.ADJUSTMENT, quantity=Decimal(1), from_location=location_id, lot=lot, serial=serial)
        else:
            c.require_lot(item, lot)
            posting.add(kind=Kind.ADJUSTMENT, quantity=quantity, from_location=location_id, lot=lot)
    posting.lock()
    _raise_shortfall(posting)
    moves = posting.write()
    for serial in serial_rows:
        if moves[0].to_location_id:
            c.serial_enters_stock(serial, location_id)
        else:
            c.serial_leaves_stock(serial, status=SerialNumber.Status.CONSUMED)
    _refresh_lots(lot)
    payload = {**c.move_payload(moves), "reason": reason, "direction": "in" if moves[0].to_location_id else "out"}
    record_event(type="stock.adjusted", aggregate_type="item", aggregate_id=item.pk, payload=payload, actor=user)
    return moves


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
    item = _locked_item(item)
    quantity = c.check_quantity(item, quantity)
    location_id = getattr(location, "pk", location)
    c.require_no_tracking_input(item, lot=lot, serials=serials)
    lot = _relock_lot(c.find_lot(item, lot), item)
    serial_rows = _relock_serials(c.find_serials(item, serials), item)
    c.require_serials(item, serial_rows, quantity)
    if serial_rows:
        _serials_at(serial_rows, location_id, for_issue=True)
        lot = lot or _lot_of(item, serial_rows)
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

    stock = item_stock([item.pk])[item.pk]
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
        pinned = _pinned_key(reservation, item)
        if pinned is not None and consumed:
            posting.reserved_deltas[pinned] = -consumed
    posting.lock(posting.reserved_deltas)
    _raise_shortfall(posting)
    moves = posting.write()
    for serial in serial_rows:
        c.serial_leaves_stock(serial, status=SerialNumber.Status.CONSUMED)
    if reservation is not None and consumed:
        reservation.quantity_consumed += consumed
        _close_if_settled(reservation)
        reservation.save(update_fields=["quantity_consumed", "status", "closed_at"])
    _refresh_lots(lot)
    payload = {**c.move_payload(moves), "reservation": getattr(reservation, "pk", None), "reservation_consumed": consumed}
    record_event(type="stock.issued", aggregate_type="item", aggregate_id=item.pk, payload=payload, actor=user)
    return moves


def _pinned_key(reservation: Reservation, item: Item) -> tuple[int, int | None] | None:
    """The balance a reservation is pinned to (its ``reserved``), or None for a wider reservation."""
    if reservation.location_id is None:
        return None
    if reservation.lot_id is None and item.tracking == Item.Tracking.LOT:
        return None
    return (reservation.location_id, reservation.lot_id)


def _close_if_settled(reservation: Reservation) -> None:
    from django.utils import timezone

    if reservation.remaining <= 0 and reservation.status == Reservation.Status.OPEN:
        reservation.status = Reservation.Status.CLOSED
        reservation.closed_at = timezone.now()


@transaction.atomic
def produce(
    *,
    item,
    location,
    quantity,
    lot_code: str | None = None,
    serial_codes: list[str] | None = None,
    expires_on=None,
    work_order_id: int | None = None,
    operation_id: int | None = None,
    consumed=(),
    document_type: str = "",
    document_id: str = "",
    reference: str = "",
    user,
) -> list[StockMove]:
    """Production output into ``location`` (creates the lot/serials), linked in the genealogy to
    ``consumed``: ``(lot or serial, quantity)`` pairs, optionally ``(node, quantity, produced serial
    code)`` to say which produced serial a component went into."""
    from inventory.services.genealogy import link_consumed

    item = _locked_item(item)
    quantity = c.check_quantity(item, quantity)
    c.require_no_tracking_input(item, lot=lot_code, serials=serial_codes)
    codes = c.clean_serial_codes(item, serial_codes, quantity)
    if item.tracking == Item.Tracking.LOT and not lot_code:
        raise errors.invalid(f"{item.code} is lot-tracked: give the lot code.", field="lot_code", code=errors.LOT_REQUIRED)
    lot = c.get_or_create_lot(item, lot_code, expires_on=expires_on) if lot_code else None
    lot = _relock_lot(lot, item)
    location_id = getattr(location, "pk", location)
    posting = c.Posting(
        item=item,
        user=user,
        reference=reference,
        work_order_id=work_order_id,
        operation_id=operation_id,
        document_type=document_type,
        document_id=str(document_id or ""),
    )
    produced_serials: list[SerialNumber] = []
    if codes:
        produced_serials = _new_serials(item, codes, lot=lot, location_id=location_id)
        for serial in produced_serials:
            posting.add(kind=Kind.PRODUCTION, quantity=Decimal(1), to_location=location_id, lot=lot, serial=serial)
    else:
        posting.add(kind=Kind.PRODUCTION, quantity=quantity, to_location=location_id, lot=lot)
    moves = posting.write()
    _refresh_lots(lot)
    links = link_consumed(
        consumed=consumed,
        produced_lot=lot,
        produced_serials=produced_serials,
        work_order_id=work_order_id,
        operation_id=operation_id,
        document_type=document_type,
        document_id=str(document_id or ""),
    )
    payload = {**c.move_payload(moves), "genealogy_links": [link.pk for link in links]}
    record_event(type="stock.produced", aggregate_type="item", aggregate_id=item.pk, payload=payload, actor=user)
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
    item = _locked_item(item)
    reason = c.check_reason(reason, what="scrapping stock")
    quantity = c.check_quantity(item, quantity)
    location_id = getattr(location, "pk", location)
    c.require_no_tracking_input(item, lot=lot, serials=serials)
    lot = _relock_lot(c.find_lot(item, lot), item)
    serial_rows = _relock_serials(c.find_serials(item, serials), item)
    c.require_serials(item, serial_rows, quantity)
    if serial_rows:
        _serials_at(serial_rows, location_id, for_issue=False)
        lot = lot or _lot_of(item, serial_rows)
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
    _raise_shortfall(posting)
    moves = posting.write()
    for serial in serial_rows:
        c.serial_leaves_stock(serial, status=SerialNumber.Status.SCRAPPED)
    _refresh_lots(lot)
    record_event(
        type="stock.scrapped",
        aggregate_type="item",
        aggregate_id=item.pk,
        payload={**c.move_payload(moves), "reason": reason},
        actor=user,
    )
    return moves


@transaction.atomic
def reverse_move(*, move: StockMove, reason: str, user) -> StockMove:
    """Correct a move by posting its mirror image (a ``reversal`` move); the original stays."""
    reason = c.check_reason(reason, what="a reversal")
    item = _locked_item(move.item_id)
    original = StockMove.objects.select_for_update(of=("self",)).get(pk=move.pk)
    if original.kind == Kind.REVERSAL:
        raise errors.ReversalNotReversible(move=original)
    if StockMove.objects.filter(reverses=original).exists():
        raise errors.AlreadyReversed(move=original)
    lot = _relock_lot(Lot.objects.get(pk=original.lot_id) if original.lot_id else None, item)
    serial = _relock_serials([original.serial], item)[0] if original.serial_id else None
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
    _raise_shortfall(posting)
    (reversal,) = posting.write()
    if serial is not None:
        if original.from_location_id is not None:
            c.serial_enters_stock(serial, original.from_location_id)
        else:
            c.serial_leaves_stock(serial, status=SerialNumber.Status.CONSUMED)
    _refresh_lots(lot)
    record_event(
        type="stock.reversed",
        aggregate_type="item",
        aggregate_id=item.pk,
        payload={**c.move_payload([reversal]), "reverses": original.pk, "reversed_kind": original.kind, "reason": reason},
        actor=user,
    )
    return reversal
