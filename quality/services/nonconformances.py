"""Nonconformances: opened with holds on the material it is about (see ``dispositions`` for what
happens to the material afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from inventory import services as inventory
from inventory.models import Item, Location, Lot, SerialNumber
from inventory.selectors import on_hand
from mes.events import record_event
from mes.quantities import ZERO, quantize
from quality import errors
from quality.models import (
    Inspection,
    Nonconformance,
    NonconformanceEvent,
    NonconformanceStatus,
    SpcSignal,
)
from quality.services._common import actor, to_decimal

Status = NonconformanceStatus
# Stock at these locations has left the factory's own stock (or never was in it).
OUTSIDE_PURPOSES = (
    Location.Purpose.SUPPLIER,
    Location.Purpose.SCRAP,
    Location.Purpose.CUSTOMER,
    Location.Purpose.PRODUCTION,
)
HOLD_SOURCE = "nonconformance"


def _default_quantity(*, inspection, item, lot, serials, lots, location) -> Decimal:
    if inspection is not None:
        return Decimal(inspection.lot_size)
    if serials:
        return Decimal(len(serials))
    total = ZERO
    for one in [lot, *lots]:
        if one is not None:
            total += on_hand(item=item, lot=one)
    if lot is None and not lots and location is not None:
        total += on_hand(item=item, location=location)
    return total


def _check_item(item: Item, *, lot, serials) -> None:
    if lot is not None and lot.item_id != item.pk:
        raise errors.invalid(f"Lot {lot.code} is not of {item.code}.", field="lot", code=errors.WRONG_ITEM)
    wrong = [s.code for s in serials if s.item_id != item.pk]
    if wrong:
        raise errors.invalid(f"Serial(s) {', '.join(wrong)} are not of {item.code}.", field="serial", code=errors.WRONG_ITEM)


def _history(ncr: Nonconformance, *, from_status: str, note: str = "", details: dict | None = None, user) -> None:
    NonconformanceEvent.objects.create(
        nonconformance=ncr,
        from_status=from_status,
        to_status=ncr.status,
        disposition=ncr.disposition,
        note=note,
        details=details or {},
        user=actor(user),
        occurred_at=timezone.now(),
    )


def _payload(ncr: Nonconformance) -> dict:
    return {
        "nonconformance": ncr.pk,
        "number": ncr.number,
        "item": ncr.item_id,
        "inspection": ncr.inspection_id,
        "spc_signal": ncr.spc_signal_id,
        "lot": ncr.lot_id,
        "serial": ncr.serial_id,
        "quantity": ncr.quantity,
        "status": ncr.status,
        "disposition": ncr.disposition,
        "holds": sorted(ncr.holds.values_list("pk", flat=True)),
    }


@transaction.atomic
def nonconformance_open(
    *,
    description: str,
    user,
    item: Item | None = None,
    inspection: Inspection | None = None,
    spc_signal: SpcSignal | None = None,
    lot: Lot | None = None,
    serial: SerialNumber | None = None,
    serials: Iterable[SerialNumber] = (),
    lots: Iterable[Lot] = (),
    location: Location | None = None,
    quantity=None,
    hold: bool = True,
) -> Nonconformance:
    """Record a nonconformance and, with ``hold``, hold the material it is about.

    Without material given, an inspection's material is taken (its lot, serial or batch of
    serials). ``lots`` are further lots held under the same NCR (material produced since the last
    good point of an SPC chart). The quantity defaults to the inspection's lot size, the number of
    serials, or the stock of the lots.
    """
    description = (description or "").strip()
    if not description:
        raise errors.invalid("Describe the nonconformance.", field="description", code="required")
    if lot is not None and serial is not None:
        raise errors.invalid("Name a lot or a serial number, not both.", field="serial", code=errors.LOT_OR_SERIAL)
    serials = [*([serial] if serial is not None else []), *serials]
    lots = list(lots)
    if inspection is not None:
        if lot is None and not serials and location is None and not lots:
            lot, location = inspection.lot, inspection.location
            serials = [*([inspection.serial] if inspection.serial_id else []), *inspection.serials.all()]
        item = item or inspection.item
    item = item or (lot.item if lot is not None else serials[0].item if serials else lots[0].item if lots else None)
    if item is None:
        raise errors.invalid("Name the inspection, lot or serial the nonconformance is about.", field="item", code="required")
    _check_item(item, lot=lot, serials=serials)
    for extra in lots:
        _check_item(item, lot=extra, serials=[])
    if quantity is None:
        quantity = _default_quantity(inspection=inspection, item=item, lot=lot, serials=serials, lots=lots, location=location)
        if quantity <= 0:
            raise errors.invalid("The material has no stock: give the quantity.", field="quantity", code="required")
    else:
        quantity = to_decimal(quantity, field="quantity")
        if quantity <= 0:
            raise errors.invalid("The quantity must be positive.", field="quantity", code="quantity_not_positive")
    quantity = quantize(quantity)

    now = timezone.now()
    ncr = Nonconformance.objects.create(
        number=f"new-{uuid.uuid4().hex[:24]}",
        item=item,
        inspection=inspection,
        spc_signal=spc_signal,
        lot=lot,
        serial=serials[0] if len(serials) == 1 else None,
        location=location,
        quantity=quantity,
        description=description,
        opened_by=actor(user),
        opened_at=now,
    )
    ncr.number = f"NCR-{ncr.pk:06d}"
    ncr.save(update_fields=["number"])
    if ncr.serial_id is None and serials:
        ncr.serials.set(serials)
    if hold:
        hold_lots = [*([lot] if lot is not None and not serials else []), *lots]
        if hold_lots or serials:
            holds = inventory.place_holds(
                lots=hold_lots,
                serials=serials,
                reason=f"{ncr.number}: {description}"[:500],
                user=user,
                source_type=HOLD_SOURCE,
                source_id=ncr.pk,
            )
            ncr.holds.set(holds)
    _history(ncr, from_status="", note=description, user=user)
    record_event(
        type="nonconformance.opened",
        aggregate_type="nonconformance",
        aggregate_id=ncr.pk,
        payload={**_payload(ncr), "description": description},
        actor=user,
    )
    return ncr
