"""Nonconformances: opened with holds on the material, dispositioned through the inventory services.

Disposition of an open NCR:

* ``use_as_is`` — the holds are released; closed.
* ``scrap`` — up to the NCR's quantity of the material still in stock is scrapped (held material
  may be scrapped), then the holds are released; closed.
* ``return_to_supplier`` — up to the NCR's quantity is transferred to a supplier location; the
  holds stay, so returned stock never counts as available; closed.
* ``rework`` — nothing moves and the material stays on hold; dispositioned until
  ``nonconformance_close`` after the rework releases the holds.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from inventory import services as inventory
from inventory.models import Hold, Item, Location, Lot, SerialNumber, StockBalance
from inventory.selectors import on_hand
from mes.errors import ApplicationError, InvalidTransition
from mes.events import record_event
from mes.quantities import ZERO, quantize
from quality import errors
from quality.models import (
    NONCONFORMANCE_TRANSITIONS,
    Disposition,
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


def _supplier_location(location: Location | None) -> Location:
    if location is not None:
        if location.purpose != Location.Purpose.SUPPLIER:
            raise errors.invalid(
                f"Location {location.code} is not a supplier location.", field="location", code=errors.NOT_A_SUPPLIER_LOCATION
            )
        return location
    found = Location.objects.filter(purpose=Location.Purpose.SUPPLIER, is_active=True).order_by("code").first()
    if found is None:
        raise ApplicationError(
            "There is no supplier location to return material to; create a location with purpose 'supplier'.",
            code=errors.NO_SUPPLIER_LOCATION,
            field="location",
        )
    return found


def _targets(ncr: Nonconformance) -> tuple[list[int], list[int]]:
    """(lot ids, serial ids) the NCR is about: its own and those its holds are on."""
    serial_ids = [*([ncr.serial_id] if ncr.serial_id else []), *ncr.serials.values_list("pk", flat=True)]
    lot_ids = [ncr.lot_id] if ncr.lot_id and not serial_ids else []
    for lot_id, serial_id in ncr.holds.values_list("lot_id", "serial_id").order_by("pk"):
        if lot_id and lot_id not in lot_ids:
            lot_ids.append(lot_id)
        if serial_id and serial_id not in serial_ids:
            serial_ids.append(serial_id)
    if ncr.item.tracking == Item.Tracking.SERIAL and lot_ids:
        serial_ids += [
            pk
            for pk in SerialNumber.objects.filter(lot_id__in=lot_ids, current_location__isnull=False).values_list("pk", flat=True)
            if pk not in serial_ids
        ]
        lot_ids = []
    return lot_ids, serial_ids


def _move_material(ncr: Nonconformance, *, to: Location | None, reason: str, user) -> list:
    """Scrap (``to`` None) or transfer to ``to`` up to the NCR's quantity of its material in stock."""
    item = ncr.item
    remaining = ncr.quantity
    lot_ids, serial_ids = _targets(ncr)
    moves = []

    def post(*, location_id: int, quantity: Decimal, lot=None, serials=None) -> None:
        common = {"item": item, "quantity": quantity, "lot": lot, "serials": serials, "reason": reason, "user": user}
        if to is None:
            moves.extend(
                inventory.scrap(location=location_id, document_type=HOLD_SOURCE, document_id=ncr.number, **common)
            )
        else:
            moves.extend(inventory.transfer(from_location=location_id, to_location=to, reference=ncr.number, **common))

    if serial_ids:
        groups: dict[tuple[int, int | None], list[SerialNumber]] = defaultdict(list)
        in_stock = (
            SerialNumber.objects.filter(pk__in=serial_ids, current_location__isnull=False)
            .exclude(current_location__purpose__in=OUTSIDE_PURPOSES)
            .order_by("current_location_id", "lot_id", "pk")
        )
        for serial in in_stock[: int(remaining)]:
            groups[(serial.current_location_id, serial.lot_id)].append(serial)
        for (location_id, _lot_id), rows in groups.items():
            post(location_id=location_id, quantity=Decimal(len(rows)), serials=rows)
        return moves
    balances = StockBalance.objects.filter(item=item, quantity__gt=0).exclude(location__purpose__in=OUTSIDE_PURPOSES)
    if lot_ids:
        balances = balances.filter(lot_id__in=lot_ids).select_related("lot")
    elif ncr.location_id:
        balances = balances.filter(location_id=ncr.location_id, lot__isnull=True)
    else:
        return moves
    for balance in balances.order_by("lot_id", "location_id"):
        take = min(balance.quantity - balance.reserved, remaining)
        if take <= 0:
            continue
        post(location_id=balance.location_id, quantity=take, lot=balance.lot)
        remaining -= take
        if remaining <= 0:
            break
    return moves


def _release_holds(ncr: Nonconformance, *, reason: str, user) -> list[int]:
    released = []
    for hold in ncr.holds.filter(status=Hold.Status.ACTIVE).select_related("lot", "serial").order_by("pk"):
        inventory.release_hold(hold=hold, reason=reason, user=user)
        released.append(hold.pk)
    return released


def _lock(ncr: Nonconformance) -> Nonconformance:
    return Nonconformance.objects.select_for_update(of=("self",)).select_related("item").get(pk=ncr.pk)


def _settle_sources(ncr: Nonconformance, *, user) -> None:
    """Reflect the NCR's disposition on its inspection, and mark its SPC signal handled once closed."""
    if ncr.inspection_id:
        Inspection.objects.filter(pk=ncr.inspection_id).update(disposition=ncr.disposition)
    if ncr.spc_signal_id and ncr.status == Status.CLOSED:
        SpcSignal.objects.filter(pk=ncr.spc_signal_id, handled=False).update(
            handled=True, handled_by=actor(user), handled_at=timezone.now()
        )


@transaction.atomic
def nonconformance_disposition(
    *, ncr: Nonconformance, disposition: str, user, note: str = "", location: Location | None = None
) -> Nonconformance:
    """Decide what happens to the material and carry it out through the inventory services."""
    ncr = _lock(ncr)
    if disposition not in Disposition.values:
        raise errors.invalid(
            f"{disposition!r} is not a disposition; use one of {', '.join(Disposition.values)}.",
            field="disposition",
            code="invalid_choice",
        )
    target = Status.DISPOSITIONED if disposition == Disposition.REWORK else Status.CLOSED
    if ncr.status != Status.OPEN or target not in NONCONFORMANCE_TRANSITIONS[ncr.status]:
        raise InvalidTransition(entity=f"Nonconformance {ncr.number}", current=ncr.status, target=target)
    supplier = None
    if disposition == Disposition.RETURN_TO_SUPPLIER:
        supplier = _supplier_location(location)
    elif location is not None:
        raise errors.invalid("A location is given only to return material to a supplier.", field="location", code="unexpected")
    label = Disposition(disposition).label.lower()
    reason = f"{ncr.number}: {label}" + (f" ({note.strip()})" if note and note.strip() else "")
    moves = []
    released: list[int] = []
    if disposition == Disposition.SCRAP:
        moves = _move_material(ncr, to=None, reason=reason[:200], user=user)
    elif disposition == Disposition.RETURN_TO_SUPPLIER:
        moves = _move_material(ncr, to=supplier, reason=reason[:200], user=user)
    if disposition in (Disposition.USE_AS_IS, Disposition.SCRAP):
        released = _release_holds(ncr, reason=reason[:500], user=user)
    previous = ncr.status
    now = timezone.now()
    ncr.status = target
    ncr.disposition = disposition
    ncr.disposition_note = note or ""
    ncr.dispositioned_by = actor(user)
    ncr.dispositioned_at = now
    ncr.returned_to = supplier
    fields = ["status", "disposition", "disposition_note", "dispositioned_by", "dispositioned_at", "returned_to"]
    if target == Status.CLOSED:
        ncr.closed_by, ncr.closed_at = actor(user), now
        fields += ["closed_by", "closed_at"]
    ncr.save(update_fields=fields)
    moved = sum((m.quantity for m in moves), ZERO)
    details = {"moves": [m.pk for m in moves], "moved_quantity": str(moved), "released_holds": released}
    _history(ncr, from_status=previous, note=note or "", details=details, user=user)
    _settle_sources(ncr, user=user)
    record_event(
        type="nonconformance.dispositioned",
        aggregate_type="nonconformance",
        aggregate_id=ncr.pk,
        payload={**_payload(ncr), **details, "moved_quantity": moved, "returned_to": ncr.returned_to_id, "note": note or ""},
        actor=user,
    )
    return ncr


@transaction.atomic
def nonconformance_close(*, ncr: Nonconformance, user, note: str = "") -> Nonconformance:
    """Close an NCR dispositioned for rework once the rework is done: its holds are released."""
    ncr = _lock(ncr)
    if ncr.status == Status.OPEN:
        raise ApplicationError(
            f"Nonconformance {ncr.number} has no disposition yet; disposition it first.",
            code="disposition_required",
            extra={"current_status": ncr.status},
        )
    if Status.CLOSED not in NONCONFORMANCE_TRANSITIONS[ncr.status]:
        raise InvalidTransition(entity=f"Nonconformance {ncr.number}", current=ncr.status, target=Status.CLOSED)
    reason = f"{ncr.number}: rework done" + (f" ({note.strip()})" if note and note.strip() else "")
    released = _release_holds(ncr, reason=reason[:500], user=user)
    previous = ncr.status
    ncr.status = Status.CLOSED
    ncr.closed_by, ncr.closed_at = actor(user), timezone.now()
    ncr.save(update_fields=["status", "closed_by", "closed_at"])
    _history(ncr, from_status=previous, note=note or "", details={"released_holds": released}, user=user)
    _settle_sources(ncr, user=user)
    record_event(
        type="nonconformance.closed",
        aggregate_type="nonconformance",
        aggregate_id=ncr.pk,
        payload={**_payload(ncr), "released_holds": released, "note": note or ""},
        actor=user,
    )
    return ncr
