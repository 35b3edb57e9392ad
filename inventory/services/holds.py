"""Quality holds on lots and serials: held material cannot be issued."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from inventory import errors
from inventory.locks import lock_holds, lock_items, lock_lots, lock_serials
from inventory.models import Hold, Lot, SerialNumber
from inventory.services import _common as c
from mes.errors import InvalidTransition
from mes.events import record_event
from mes.models import ElectronicSignature
from mes.signatures import sign_record

RELEASE_MEANING = "Released from hold"


def _payload(hold: Hold, target) -> dict:
    return {
        "hold": hold.pk,
        "lot": hold.lot_id,
        "serial": hold.serial_id,
        "code": target.code,
        "item": target.item_id,
        "reason": hold.reason,
        "status": hold.status,
        "release_reason": hold.release_reason,
        "source_type": hold.source_type,
        "source_id": hold.source_id,
    }


def _user(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _hold(target, *, reason: str, user, source_type: str, source_id) -> Hold:
    is_lot = isinstance(target, Lot)
    hold = Hold.objects.create(
        lot=target if is_lot else None,
        serial=None if is_lot else target,
        reason=reason,
        placed_by=_user(user),
        source_type=source_type or "",
        source_id=source_id,
    )
    if is_lot:
        if target.status != Lot.Status.ON_HOLD:
            target.status = Lot.Status.ON_HOLD
            target.save(update_fields=["status"])
    elif target.status != SerialNumber.Status.ON_HOLD:
        target.status = SerialNumber.Status.ON_HOLD
        target.save(update_fields=["status"])
    record_event(
        type="lot.held" if is_lot else "serial.held",
        aggregate_type="lot" if is_lot else "serial",
        aggregate_id=target.pk,
        payload=_payload(hold, target),
        actor=user,
    )
    return hold


@transaction.atomic
def place_hold(*, lot: Lot | None = None, serial: SerialNumber | None = None, reason: str, user, source_type: str = "", source_id=None) -> Hold:
    """Hold a lot (whatever its stock) or a serial in stock."""
    if (lot is None) == (serial is None):
        raise errors.invalid("Hold either a lot or a serial number.", field="lot", code="lot_or_serial")
    reason = c.check_reason(reason, what="a hold")
    target = lot or serial
    lock_items([target.item_id])
    if lot is not None:
        target = lock_lots([lot])[lot.pk]
    else:
        target = lock_serials([serial])[serial.pk]
        if target.current_location_id is None:
            raise errors.SerialNotAvailable(serial=target, why=f"is not in stock (it is {target.status}) and cannot be held")
    return _hold(target, reason=reason, user=user, source_type=source_type, source_id=source_id)


@transaction.atomic
def place_holds(
    *, lots: Iterable[Lot] = (), serials: Iterable[SerialNumber] = (), reason: str, user, source_type: str = "", source_id=None
) -> list[Hold]:
    """Hold many lots/serials at once (a recall). Serials out of stock, and what this source
    already holds, are skipped, so running it twice places nothing twice."""
    reason = c.check_reason(reason, what="a hold")
    lots, serials = list(lots), list(serials)
    lock_items({x.item_id for x in [*lots, *serials]})
    locked_lots = lock_lots(lots)
    locked_serials = lock_serials(serials)
    already = Hold.objects.filter(status=Hold.Status.ACTIVE, source_type=source_type or "", source_id=source_id)
    held_lots = set(already.filter(lot_id__in=locked_lots).values_list("lot_id", flat=True))
    held_serials = set(already.filter(serial_id__in=locked_serials).values_list("serial_id", flat=True))
    holds = []
    for lot in locked_lots.values():
        if lot.pk not in held_lots:
            holds.append(_hold(lot, reason=reason, user=user, source_type=source_type, source_id=source_id))
    for serial in locked_serials.values():
        if serial.pk not in held_serials and serial.current_location_id is not None:
            holds.append(_hold(serial, reason=reason, user=user, source_type=source_type, source_id=source_id))
    return holds


def _check_releasable(hold: Hold) -> None:
    if Hold.Status.RELEASED not in Hold.TRANSITIONS[hold.status]:
        raise InvalidTransition(entity="Hold", current=hold.status, target=Hold.Status.RELEASED)


def _sign_release(hold: Hold, *, reason: str, user, password: str | None, meaning: str | None) -> ElectronicSignature:
    """The signer's signature on the hold as shown to them and the decision to release it."""
    target = hold.lot or hold.serial
    return sign_record(
        user=user,
        password=password,
        meaning=(meaning or "").strip()[:200] or RELEASE_MEANING,
        record_type="hold",
        record_id=hold.pk,
        content={
            "hold": hold.pk,
            "lot": hold.lot_id,
            "serial": hold.serial_id,
            "code": target.code,
            "item": target.item_id,
            "reason": hold.reason,
            "placed_at": hold.placed_at,
            "release_reason": reason,
        },
    )


@transaction.atomic
def release_hold(
    *,
    hold: Hold,
    reason: str,
    user,
    signature_password: str | None = None,
    signature_meaning: str | None = None,
    signature: ElectronicSignature | None = None,
) -> Hold:
    """Release one hold under an electronic signature; the lot/serial is free again when no other
    hold is active on it.

    ``user`` signs the release by re-entering ``signature_password`` (a wrong or missing password
    is refused with 403 and nothing changes). A release that is part of an act signed in the same
    transaction (a nonconformance's disposition) passes that act's ``signature`` instead.
    """
    reason = c.check_reason(reason, what="releasing a hold")
    _check_releasable(hold)
    if signature is None:  # signed before any lock: checking a password takes a while
        signature = _sign_release(hold, reason=reason, user=user, password=signature_password, meaning=signature_meaning)
    target = hold.lot or hold.serial
    lock_items([target.item_id])
    if hold.lot_id:
        target = lock_lots([hold.lot_id])[hold.lot_id]
    else:
        target = lock_serials([hold.serial_id])[hold.serial_id]
    hold = lock_holds([hold])[hold.pk]
    _check_releasable(hold)
    hold.status = Hold.Status.RELEASED
    hold.released_by = _user(user)
    hold.released_at = timezone.now()
    hold.release_reason = reason
    hold.save(update_fields=["status", "released_by", "released_at", "release_reason"])
    if isinstance(target, Lot):
        c.refresh_lot_status(target)
    elif not Hold.objects.filter(serial=target, status=Hold.Status.ACTIVE).exists() and target.status == SerialNumber.Status.ON_HOLD:
        target.status = SerialNumber.Status.AVAILABLE
        target.save(update_fields=["status"])
    record_event(
        type="lot.released" if hold.lot_id else "serial.released",
        aggregate_type="lot" if hold.lot_id else "serial",
        aggregate_id=target.pk,
        payload={**_payload(hold, target), "signature": signature.pk},
        actor=user,
    )
    return hold
