"""Reservations: stock promised to a demand (a work order, a shipment).

A reservation is open until consumed (by ``issue``) or released; it may name a lot and/or a
location, else it is for the item as a whole. One pinned to a location (and lot, for lot-tracked
items) also shows as ``reserved`` on that balance.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from inventory import errors
from inventory.locks import lock_balances, lock_items, lock_reservations
from inventory.models import Item, Reservation
from inventory.selectors.stock import item_stock
from inventory.services import _common as c
from inventory.services._stock import pinned_key
from mes.errors import InvalidTransition, NotFound
from mes.events import record_event
from mes.quantities import ZERO


def _payload(reservation: Reservation, **extra) -> dict:
    return {
        "reservation": reservation.pk,
        "item": reservation.item_id,
        "lot": reservation.lot_id,
        "location": reservation.location_id,
        "quantity": reservation.quantity,
        "quantity_consumed": reservation.quantity_consumed,
        "quantity_released": reservation.quantity_released,
        "status": reservation.status,
        "demand_type": reservation.demand_type,
        "demand_id": reservation.demand_id,
        **extra,
    }


def _create(*, item: Item, quantity: Decimal, demand_type: str, demand_id: int, lot, location, user) -> Reservation:
    reservation = Reservation.objects.create(
        item=item,
        lot=lot,
        location_id=getattr(location, "pk", location),
        quantity=quantity,
        demand_type=demand_type,
        demand_id=demand_id,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    pinned = pinned_key(reservation, item)
    if pinned is not None:
        balance = lock_balances(item_id=item.pk, keys=[pinned])[pinned]
        balance.reserved += quantity
        balance.save(update_fields=["reserved", "updated_at"])
    record_event(type="reservation.created", aggregate_type="reservation", aggregate_id=reservation.pk, payload=_payload(reservation), actor=user)
    return reservation


def _check_demand(demand_type: str, demand_id) -> None:
    if not demand_type:
        raise errors.invalid("Say what the stock is reserved for.", field="demand_type", code="required")
    if demand_id is None:
        raise errors.invalid("Say what the stock is reserved for.", field="demand_id", code="required")


@transaction.atomic
def reserve(
    *,
    item,
    quantity,
    demand_type: str,
    demand_id: int,
    lot=None,
    location=None,
    user,
) -> Reservation:
    """Reserve available stock (on hand − reserved − held); ``InsufficientStock`` lists the shortage."""
    _check_demand(demand_type, demand_id)
    items = lock_items([item])
    pk = getattr(item, "pk", item)
    if pk not in items:
        raise NotFound(f"Item {pk} does not exist.")
    item = items[pk]
    quantity = c.check_quantity(item, quantity)
    lot = c.find_lot(item, lot)
    location_id = getattr(location, "pk", location)
    available = item_stock([item])[item.pk].available(location_id, getattr(lot, "pk", None))
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
    return _create(item=item, quantity=quantity, demand_type=demand_type, demand_id=demand_id, lot=lot, location=location_id, user=user)


@transaction.atomic
def reserve_many(
    *,
    requirements,
    demand_type: str,
    demand_id: int,
    user,
    allow_shortage: bool = False,
) -> tuple[list[Reservation], list[dict]]:
    """Reserve several items for one demand, all or nothing: ``(item, quantity)`` pairs (repeats summed).

    Locks every item first (by pk). With a shortage and not ``allow_shortage``: ``InsufficientStock``
    listing every short item and nothing reserved. With ``allow_shortage``: reserves what is
    available of each item and returns the shortages beside the reservations.
    """
    _check_demand(demand_type, demand_id)
    required: dict[int, Decimal] = {}
    for item, quantity in requirements:
        pk = getattr(item, "pk", item)
        required[pk] = required.get(pk, ZERO) + c.to_decimal(quantity)
    items = lock_items(required)
    missing = set(required) - set(items)
    if missing:
        raise NotFound(f"Item(s) {sorted(missing)} do not exist.")
    for pk, quantity in required.items():
        required[pk] = c.check_quantity(items[pk], quantity)
    stocks = item_stock([items[pk] for pk in required])
    shortages = []
    for pk, quantity in sorted(required.items(), key=lambda kv: items[kv[0]].code):
        available = stocks[pk].available()
        if quantity > available:
            shortages.append(
                {"item": pk, "item_code": items[pk].code, "required": quantity, "available": available, "shortage": quantity - available}
            )
    if shortages and not allow_shortage:
        raise errors.InsufficientStock(shortages=shortages)
    reservations = []
    for pk in sorted(required):
        quantity = min(required[pk], stocks[pk].available())
        if quantity > 0:
            reservations.append(
                _create(item=items[pk], quantity=quantity, demand_type=demand_type, demand_id=demand_id, lot=None, location=None, user=user)
            )
    return reservations, shortages


def _release(reservation: Reservation, quantity: Decimal, item: Item, user) -> Reservation:
    reservation.quantity_released += quantity
    if reservation.remaining <= 0:
        reservation.status = Reservation.Status.CLOSED
        reservation.closed_at = timezone.now()
    reservation.save(update_fields=["quantity_released", "status", "closed_at"])
    pinned = pinned_key(reservation, item)
    if pinned is not None and quantity:
        balance = lock_balances(item_id=item.pk, keys=[pinned])[pinned]
        balance.reserved -= quantity
        balance.save(update_fields=["reserved", "updated_at"])
    record_event(
        type="reservation.released",
        aggregate_type="reservation",
        aggregate_id=reservation.pk,
        payload=_payload(reservation, released=quantity),
        actor=user,
    )
    return reservation


@transaction.atomic
def release_reservation(*, reservation: Reservation, quantity=None, user) -> Reservation:
    """Give back all that is left of a reservation, or ``quantity`` of it."""
    item = lock_items([reservation.item_id])[reservation.item_id]
    reservation = lock_reservations([reservation])[reservation.pk]
    if reservation.status != Reservation.Status.OPEN:
        raise InvalidTransition(entity="Reservation", current=reservation.status, target="released")
    remaining = reservation.remaining
    quantity = remaining if quantity is None else c.check_quantity(item, quantity)
    if quantity > remaining:
        raise errors.invalid(
            f"Only {remaining} of this reservation is left to release.",
            field="quantity",
            code=errors.RESERVATION_EXCEEDED,
            extra={"remaining": remaining},
        )
    return _release(reservation, quantity, item, user)


@transaction.atomic
def release_reservations_for(*, demand_type: str, demand_id: int, user) -> list[Reservation]:
    """Release every open reservation of one demand (e.g. a cancelled work order)."""
    open_ids = list(
        Reservation.objects.filter(demand_type=demand_type, demand_id=demand_id, status=Reservation.Status.OPEN)
        .order_by("pk")
        .values_list("pk", "item_id")
    )
    if not open_ids:
        return []
    items = lock_items({item_id for _, item_id in open_ids})
    locked = lock_reservations(pk for pk, _ in open_ids)
    released = []
    for reservation in locked.values():
        if reservation.status == Reservation.Status.OPEN:
            released.append(_release(reservation, reservation.remaining, items[reservation.item_id], user))
    return released
