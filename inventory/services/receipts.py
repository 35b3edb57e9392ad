"""Stock coming in: goods received, production output (with its genealogy)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from inventory import errors
from inventory.models import Item, SerialNumber, StockMove
from inventory.services import _common as c
from inventory.services._stock import (
    locked_item,
    new_serials,
    refresh_lots,
)
from mes.events import record_event

Kind = StockMove.Kind


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
    item = locked_item(item)
    c.check_unit(item, unit)
    quantity = c.check_quantity(item, quantity)
    c.require_no_tracking_input(item, lot=lot_code, serials=serial_codes)
    codes = c.clean_serial_codes(item, serial_codes, quantity)
    if item.tracking == Item.Tracking.LOT and not lot_code:
        raise errors.invalid(f"{item.code} is lot-tracked: give the lot code.", field="lot_code", code=errors.LOT_REQUIRED)
    lot = c.get_or_create_lot(item, lot_code, expires_on=expires_on, supplier_lot=supplier_lot) if lot_code else None
    posting = c.Posting(item=item, user=user, reference=reference)
    location_id = getattr(location, "pk", location)
    if codes:
        for serial in new_serials(item, codes, lot=lot, location_id=location_id):
            posting.add(kind=Kind.RECEIPT, quantity=Decimal(1), to_location=location_id, lot=lot, serial=serial)
    else:
        posting.add(kind=Kind.RECEIPT, quantity=quantity, to_location=location_id, lot=lot)
    moves = posting.write()
    refresh_lots(lot)
    record_event(type="stock.received", aggregate_type="item", aggregate_id=item.pk, payload=c.move_payload(moves), actor=user)
    return moves


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
    savepoint: bool = True,
    locked_items: dict[int, Item] | None = None,
    locked_balances: dict | None = None,
) -> list[StockMove]:
    """Production output into ``location`` (creates the lot/serials), linked in the genealogy to
    ``consumed``: ``(lot or serial, quantity)`` pairs, optionally ``(node, quantity, produced serial
    code)`` to say which produced serial a component went into.

    ``savepoint=False``: inside a caller's transaction that is rolled back whole on any refusal
    (a production report), take no savepoint of its own. ``locked_items``: items the caller has
    locked in this transaction (``lock_items``), by id; ``item`` among them is not locked again.
    ``locked_balances``: the same for balances, by (item id, location id, lot id)
    (``lock_items_with_balances``)."""
    with transaction.atomic(savepoint=savepoint):
        return _produce(
            item=item, locked_items=locked_items or {}, locked_balances=locked_balances, location=location, quantity=quantity, lot_code=lot_code, serial_codes=serial_codes,
            expires_on=expires_on, work_order_id=work_order_id, operation_id=operation_id, consumed=consumed,
            document_type=document_type, document_id=document_id, reference=reference, user=user,
        )


def _produce(*, item, locked_items: dict[int, Item], locked_balances: dict | None, location, quantity, lot_code, serial_codes, expires_on, work_order_id,
             operation_id, consumed, document_type, document_id, reference, user) -> list[StockMove]:
    from inventory.services.genealogy import link_consumed

    pk = getattr(item, "pk", item)
    item = locked_items[pk] if pk in locked_items else locked_item(item)
    quantity = c.check_quantity(item, quantity)
    c.require_no_tracking_input(item, lot=lot_code, serials=serial_codes)
    codes = c.clean_serial_codes(item, serial_codes, quantity)
    if item.tracking == Item.Tracking.LOT and not lot_code:
        raise errors.invalid(f"{item.code} is lot-tracked: give the lot code.", field="lot_code", code=errors.LOT_REQUIRED)
    lot = c.get_or_create_lot(item, lot_code, expires_on=expires_on) if lot_code else None
    location_id = getattr(location, "pk", location)
    posting = c.Posting(
        item=item,
        user=user,
        locked_balances=locked_balances,
        reference=reference,
        work_order_id=work_order_id,
        operation_id=operation_id,
        document_type=document_type,
        document_id=str(document_id or ""),
    )
    produced_serials: list[SerialNumber] = []
    if codes:
        produced_serials = new_serials(item, codes, lot=lot, location_id=location_id)
        for serial in produced_serials:
            posting.add(kind=Kind.PRODUCTION, quantity=Decimal(1), to_location=location_id, lot=lot, serial=serial)
    else:
        posting.add(kind=Kind.PRODUCTION, quantity=quantity, to_location=location_id, lot=lot)
    moves = posting.write()
    refresh_lots(lot)
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
