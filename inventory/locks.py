"""Row locks of the inventory app, always taken in the same order so writers cannot deadlock.

Every stock service first locks the item rows it touches (by pk); stock, reservations and holds
of one item are then changed by one transaction at a time, so availability checked under the
lock stays true until the commit. Under the item lock a service locks that item's lot, serials,
reservation, holds and balances (each set by pk). The item lock is ``FOR NO KEY UPDATE``: it does
not block transactions inserting rows that merely reference the item (work orders, BOM lines).

A caller that runs several stock services for different items in one transaction (a production
report issuing components) should first call ``lock_items`` with all of them: two such callers
then queue on the same first row instead of deadlocking on each other's second.
"""

from __future__ import annotations

from collections.abc import Iterable

from inventory.models import Hold, Item, Lot, Reservation, SerialNumber, StockBalance


def _ids(values: Iterable) -> list[int]:
    return sorted({getattr(v, "pk", v) for v in values if v is not None})


def lock_items(items: Iterable) -> dict[int, Item]:
    ids = _ids(items)
    rows = Item.objects.select_for_update(no_key=True, of=("self",)).select_related("unit").filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}


def lock_lots(lots: Iterable) -> dict[int, Lot]:
    ids = _ids(lots)
    if not ids:
        return {}
    return {row.pk: row for row in Lot.objects.select_for_update(of=("self",)).select_related("item").filter(pk__in=ids).order_by("pk")}


def lock_serials(serials: Iterable) -> dict[int, SerialNumber]:
    ids = _ids(serials)
    if not ids:
        return {}
    rows = SerialNumber.objects.select_for_update(of=("self",)).select_related("item").filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}


def lock_balances(*, item_id: int, keys: Iterable[tuple[int, int | None]]) -> dict[tuple[int, int | None], StockBalance]:
    """Lock (creating when missing) the balances of one item at the given (location id, lot id) pairs."""
    return {key[1:]: balance for key, balance in lock_item_balances(keys=[(item_id, *k) for k in keys]).items()}


def lock_item_balances(*, keys: Iterable[tuple[int, int, int | None]]) -> dict[tuple[int, int, int | None], StockBalance]:
    """Lock (creating when missing) the balances at the given (item id, location id, lot id)
    triples, of any number of items, in one query (by pk), under their items' locks."""
    keys = sorted(set(keys), key=lambda k: (k[0], k[1], k[2] or 0))
    found: dict[tuple[int, int, int | None], StockBalance] = {}
    if not keys:
        return found
    candidates = (
        StockBalance.objects.select_for_update(of=("self",))
        .filter(item_id__in={k[0] for k in keys}, location_id__in={k[1] for k in keys})
        .order_by("pk")
    )
    wanted = set(keys)
    for balance in candidates:
        key = (balance.item_id, balance.location_id, balance.lot_id)
        if key in wanted:
            found[key] = balance
    for key in keys:
        if key not in found:
            # The item row is locked, so no other transaction can be creating this balance.
            found[key] = StockBalance.objects.create(item_id=key[0], location_id=key[1], lot_id=key[2])
    return found


def lock_reservations(reservations: Iterable) -> dict[int, Reservation]:
    ids = _ids(reservations)
    if not ids:
        return {}
    return {r.pk: r for r in Reservation.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")}


def lock_holds(holds: Iterable) -> dict[int, Hold]:
    ids = _ids(holds)
    if not ids:
        return {}
    return {h.pk: h for h in Hold.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")}
