"""Row handling shared by the stock services: locked rows, serial checks, shortfalls."""

from __future__ import annotations

from django.utils import timezone

from inventory import errors
from inventory.locks import lock_items, lock_lots, lock_serials
from inventory.models import Item, Lot, Reservation, SerialNumber
from inventory.services import _common as c
from mes import sql
from mes.errors import NotFound


def locked_item(item) -> Item:
    items = lock_items([item])
    pk = getattr(item, "pk", item)
    if pk not in items:
        raise NotFound(f"Item {pk} does not exist.")
    return items[pk]


def locked_lot(item: Item, lot, *, field: str = "lot") -> Lot | None:
    """``lot`` (a Lot or a code of ``item``'s lots) found and locked in one query; None stays None."""
    if lot in (None, ""):
        return None
    if isinstance(lot, Lot):
        if lot.item_id != item.pk:
            raise errors.invalid(f"Lot {lot.code} is not a lot of {item.code}.", field=field, code=errors.WRONG_ITEM)
        query = Lot.objects.filter(pk=lot.pk)
    else:
        query = Lot.objects.filter(item=item, code=str(lot))
    found = query.select_for_update(of=("self",)).first()
    if found is None:
        raise errors.invalid(f"{item.code} has no lot {lot}.", field=field, code=errors.LOT_NOT_FOUND)
    found.item = item
    return found


def relock_lot(lot: Lot | None, item: Item) -> Lot | None:
    if lot is None:
        return None
    locked = lock_lots([lot])[lot.pk]
    locked.item = item
    return locked


def relock_serials(serials: list[SerialNumber], item: Item) -> list[SerialNumber]:
    locked = lock_serials(serials)
    out = []
    for serial in serials:
        row = locked[serial.pk]
        row.item = item
        out.append(row)
    return out


def new_serials(item: Item, codes: list[str], *, lot: Lot | None, location_id: int) -> list[SerialNumber]:
    """Create serials that must not exist yet (receipt, production): one insert that skips the
    codes already taken (also by a transaction committing meanwhile), refused if there are any
    (the caller's transaction then rolls back those it inserted)."""
    serials = [
        sql.new_row(SerialNumber, item=item, code=code, lot=lot, current_location_id=location_id, status=SerialNumber.Status.AVAILABLE)
        for code in codes
    ]
    inserted = sql.insert_rows(SerialNumber, serials, skip_conflicts_on=("item", "code"))
    if len(inserted) != len(serials):
        raise errors.SerialAlreadyExists(item=item, codes=sorted(s.code for s in serials if s.pk is None))
    for serial in serials:
        serial.item = item
    return serials


def serials_at(serials: list[SerialNumber], location_id: int, *, for_issue: bool, lots: dict[int, Lot] | None = None) -> None:
    """Every serial in stock at ``location_id``; for an issue also not held, nor in a held or
    expired lot (``lots``: the serials' lots when the caller has them, else read in one query)."""
    for serial in serials:
        if serial.current_location_id is None:
            raise errors.SerialNotAvailable(serial=serial, why=f"is not in stock (it is {serial.status})")
        if serial.current_location_id != location_id:
            raise errors.SerialNotAvailable(serial=serial, why="is not at that location")
        if for_issue and serial.status == SerialNumber.Status.ON_HOLD:
            raise errors.SerialOnHold(serial=serial, reasons=c.active_hold_reasons(serial=serial))
    if not for_issue:
        return
    lot_ids = {s.lot_id for s in serials if s.lot_id is not None}
    if lots is None or not lot_ids <= set(lots):
        lots = serial_lots(serials)
    for serial in serials:
        if serial.lot_id is not None:
            c.check_lot_usable(lots[serial.lot_id])


def serial_lots(serials: list[SerialNumber]) -> dict[int, Lot]:
    lot_ids = {s.lot_id for s in serials if s.lot_id is not None}
    if not lot_ids:
        return {}
    ids = sorted(lot_ids)
    rows = sql.fetch_models(
        f"SELECT {sql.select_columns(Lot, 'l')}, {sql.select_columns(Item, 'i')} "
        f"FROM inventory_lot l JOIN inventory_item i ON i.id = l.item_id WHERE l.id IN ({sql.in_list(ids)})",
        ids,
        [Lot, sql.Part(Item, parent="lot", relation="item")],
    )
    return {lot.pk: lot for lot in rows}


def lot_of(item: Item, serials: list[SerialNumber], lots: dict[int, Lot] | None = None) -> Lot | None:
    """Serials move per lot: a posting of several serials of different lots is split by the caller."""
    lot_ids = {s.lot_id for s in serials}
    if len(lot_ids) > 1:
        raise errors.invalid("These serials belong to different lots; move them lot by lot.", field="serials", code="mixed_lots")
    lot_id = next(iter(lot_ids), None)
    if lot_id and lots and lot_id in lots:
        return lots[lot_id]
    return Lot.objects.get(pk=lot_id) if lot_id else None


def stock_leaving(item: Item, *, lot, serials, quantity, location_id: int) -> tuple[Lot | None, list[SerialNumber]]:
    """The lot and serials of stock leaving ``location_id`` other than by an issue (a transfer,
    scrap, a counted shortage): locked, the serials counted and there, the lot the serials' own
    when not named, and named when the item is lot-tracked."""
    lot = locked_lot(item, lot)
    serial_rows = relock_serials(c.find_serials(item, serials), item)
    c.require_serials(item, serial_rows, quantity)
    if serial_rows:
        serials_at(serial_rows, location_id, for_issue=False)
        lot = lot or lot_of(item, serial_rows)
    c.require_lot(item, lot)
    return lot, serial_rows


def raise_shortfall(posting: c.Posting) -> None:
    shortages = posting.shortfall()
    if shortages:
        raise errors.InsufficientStock(shortages=shortages)


def refresh_lots(*lots: Lot | None) -> None:
    c.refresh_lot_statuses(lots)


def pinned_key(reservation: Reservation, item: Item) -> tuple[int, int | None] | None:
    """The balance a reservation is pinned to (its ``reserved``), or None for a wider reservation."""
    if reservation.location_id is None:
        return None
    if reservation.lot_id is None and item.tracking == Item.Tracking.LOT:
        return None
    return (reservation.location_id, reservation.lot_id)


def close_if_settled(reservation: Reservation) -> None:
    if reservation.remaining <= 0 and reservation.status == Reservation.Status.OPEN:
        reservation.status = Reservation.Status.CLOSED
        reservation.closed_at = timezone.now()
