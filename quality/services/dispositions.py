"""Disposition of a nonconformance, carried out through the inventory services and signed
electronically by the quality engineer who decides it (21 CFR 11.50/11.70: re-entered password,
meaning, time, hash of the NCR and the decision).

Disposition of an open NCR:

* ``use_as_is`` — the holds are released; closed.
* ``scrap`` — up to the NCR's quantity of the material still in stock is scrapped (held material
  may be scrapped), then the holds are released; closed.
* ``return_to_supplier`` — up to the NCR's quantity is transferred to a supplier location; the
  holds stay, so returned stock never counts as available; closed.
* ``rework`` — nothing moves and the material stays on hold; dispositioned until
  ``nonconformance_close`` after the rework releases the holds (signed too).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from inventory import services as inventory
from inventory.models import Hold, Item, Location, SerialNumber, StockBalance
from mes.errors import ApplicationError, InvalidTransition
from mes.events import record_event
from mes.models import ElectronicSignature
from mes.quantities import ZERO
from mes.signatures import sign_record
from quality import errors
from quality.models import (
    NONCONFORMANCE_TRANSITIONS,
    Disposition,
    Inspection,
    Nonconformance,
    SpcSignal,
)
from quality.services._common import actor
from quality.services.nonconformances import (
    HOLD_SOURCE,
    OUTSIDE_PURPOSES,
    Status,
    _history,
    _payload,
)


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


def _release_holds(ncr: Nonconformance, *, reason: str, user, signature: ElectronicSignature) -> list[int]:
    """Release the NCR's active holds under the signature of the act that releases them."""
    released = []
    for hold in ncr.holds.filter(status=Hold.Status.ACTIVE).select_related("lot", "serial").order_by("pk"):
        inventory.release_hold(hold=hold, reason=reason, user=user, signature=signature)
        released.append(hold.pk)
    return released


def _sign(ncr: Nonconformance, *, user, password: str | None, meaning: str, decision: dict) -> ElectronicSignature:
    """The signer's signature on the NCR as shown to them and their decision (21 CFR 11.50/11.70)."""
    return sign_record(
        user=user,
        password=password,
        meaning=meaning,
        record_type="nonconformance",
        record_id=ncr.pk,
        content={
            "nonconformance": ncr.pk,
            "number": ncr.number,
            "item": ncr.item_id,
            "lot": ncr.lot_id,
            "serial": ncr.serial_id,
            "location": ncr.location_id,
            "quantity": ncr.quantity,
            "description": ncr.description,
            "status": ncr.status,
            "disposition": ncr.disposition,
            **decision,
        },
    )


def _meaning(given: str | None, default: str) -> str:
    return (given or "").strip()[:200] or default


def _check_disposable(ncr: Nonconformance, target: str) -> None:
    if ncr.status != Status.OPEN or target not in NONCONFORMANCE_TRANSITIONS[ncr.status]:
        raise InvalidTransition(entity=f"Nonconformance {ncr.number}", current=ncr.status, target=target)


def _check_closable(ncr: Nonconformance) -> None:
    if ncr.status == Status.OPEN:
        raise ApplicationError(
            f"Nonconformance {ncr.number} has no disposition yet; disposition it first.",
            code="disposition_required",
            extra={"current_status": ncr.status},
        )
    if Status.CLOSED not in NONCONFORMANCE_TRANSITIONS[ncr.status]:
        raise InvalidTransition(entity=f"Nonconformance {ncr.number}", current=ncr.status, target=Status.CLOSED)


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
    *,
    ncr: Nonconformance,
    disposition: str,
    user,
    note: str = "",
    location: Location | None = None,
    signature_password: str | None = None,
    signature_meaning: str | None = None,
) -> Nonconformance:
    """Decide what happens to the material and carry it out through the inventory services.

    The decision is signed: ``user`` re-enters ``signature_password`` (403 and nothing changes when
    it is wrong or missing); the signature also covers the holds the disposition releases.
    """
    if disposition not in Disposition.values:
        raise errors.invalid(
            f"{disposition!r} is not a disposition; use one of {', '.join(Disposition.values)}.",
            field="disposition",
            code="invalid_choice",
        )
    target = Status.DISPOSITIONED if disposition == Disposition.REWORK else Status.CLOSED
    _check_disposable(ncr, target)
    supplier = None
    if disposition == Disposition.RETURN_TO_SUPPLIER:
        supplier = _supplier_location(location)
    elif location is not None:
        raise errors.invalid("A location is given only to return material to a supplier.", field="location", code="unexpected")
    label = Disposition(disposition).label.lower()
    # Signed before any lock (checking a password takes a while); the locked NCR is checked again.
    signature = _sign(
        ncr,
        user=user,
        password=signature_password,
        meaning=_meaning(signature_meaning, f"Dispositioned: {label}"),
        decision={"decision": disposition, "note": note or "", "returned_to": supplier.pk if supplier else None},
    )
    ncr = _lock(ncr)
    _check_disposable(ncr, target)
    reason = f"{ncr.number}: {label}" + (f" ({note.strip()})" if note and note.strip() else "")
    moves = []
    released: list[int] = []
    if disposition == Disposition.SCRAP:
        moves = _move_material(ncr, to=None, reason=reason[:200], user=user)
    elif disposition == Disposition.RETURN_TO_SUPPLIER:
        moves = _move_material(ncr, to=supplier, reason=reason[:200], user=user)
    if disposition in (Disposition.USE_AS_IS, Disposition.SCRAP):
        released = _release_holds(ncr, reason=reason[:500], user=user, signature=signature)
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
    details = {
        "moves": [m.pk for m in moves],
        "moved_quantity": str(moved),
        "released_holds": released,
        "signature": signature.pk,
    }
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
def nonconformance_close(
    *,
    ncr: Nonconformance,
    user,
    note: str = "",
    signature_password: str | None = None,
    signature_meaning: str | None = None,
) -> Nonconformance:
    """Close an NCR dispositioned for rework once the rework is done: its holds are released,
    under the signature of ``user`` (re-entered ``signature_password``, as for a disposition)."""
    _check_closable(ncr)
    signature = _sign(
        ncr,
        user=user,
        password=signature_password,
        meaning=_meaning(signature_meaning, "Closed: rework done, holds released"),
        decision={"decision": "close", "note": note or ""},
    )
    ncr = _lock(ncr)
    _check_closable(ncr)
    reason = f"{ncr.number}: rework done" + (f" ({note.strip()})" if note and note.strip() else "")
    released = _release_holds(ncr, reason=reason[:500], user=user, signature=signature)
    previous = ncr.status
    ncr.status = Status.CLOSED
    ncr.closed_by, ncr.closed_at = actor(user), timezone.now()
    ncr.save(update_fields=["status", "closed_by", "closed_at"])
    details = {"released_holds": released, "signature": signature.pk}
    _history(ncr, from_status=previous, note=note or "", details=details, user=user)
    _settle_sources(ncr, user=user)
    record_event(
        type="nonconformance.closed",
        aggregate_type="nonconformance",
        aggregate_id=ncr.pk,
        payload={**_payload(ncr), **details, "note": note or ""},
        actor=user,
    )
    return ncr
