"""Row locks of the inventory app, always taken in the same order so writers cannot deadlock.

Every stock service first locks the item rows it touches (by pk); stock, reservations and holds
of one item are then changed by one transaction at a time, so availability checked under the
lock stays true until the commit. Under the item lock a service locks that item's lot, serials,
reservation, holds and balances (each set by pk). The item lock is ``FOR NO KEY UPDATE``: it does
not block transactions inserting rows that merely reference the item (work orders, BOM lines).

A caller that runs several stock services for different items in one transaction (a production
report issuing components) should first call ``lock_items`` with all of them: two such callers
then queue on the same first row instead of deadlocking on each other's second.

The locks on a production report's path are statements written as SQL (:mod:`mes.sql`): the
same text on every call, without the ORM's query building.
"""

from __future__ import annotations

from collections.abc import Iterable

from inventory.models import (
    Hold,
    Item,
    Lot,
    Reservation,
    SerialNumber,
    StockBalance,
    UnitOfMeasure,
)
from mes import sql


def _ids(values: Iterable) -> list[int]:
    return sorted({getattr(v, "pk", v) for v in values if v is not None})


def lock_items(items: Iterable) -> dict[int, Item]:
    """The items (objects or ids) that exist, locked by pk, each with its unit."""
    ids = _ids(items)
    if not ids:
        return {}
    return {row[0].pk: row[0] for row in sql.fetch_rows(*_items_read(ids))}


def lock_items_with_balances(items: Iterable, *, balance_keys: Iterable[tuple[int, int, int | None]]):
    """:func:`lock_items`, and then the balances that exist at the (item id, location id, lot id)
    keys, locked in the same statement: (items by id, balances by key) — for
    :func:`lock_item_balances` given them as locked (it creates the missing ones)."""
    ids = _ids(items)
    keys = _balance_keys(balance_keys)
    if not ids or not keys:
        return lock_items(ids), {}
    item_rows, balance_rows = sql.fetch_together(_items_read(ids), _balances_read(keys))
    return {row[0].pk: row[0] for row in item_rows}, _at_keys([row[0] for row in balance_rows], set(keys))


def _items_read(ids: list[int]) -> tuple[str, list, list]:
    return (
        f"SELECT {sql.select_columns(Item, 'i')}, {sql.select_columns(UnitOfMeasure, 'u')} "
        "FROM inventory_item i JOIN inventory_unitofmeasure u ON u.code = i.unit_id "
        f"WHERE i.id IN ({sql.in_list(ids)}) ORDER BY i.id {sql.for_update('i', no_key=True)}",
        ids,
        [Item, sql.Part(UnitOfMeasure, parent="item", relation="unit")],
    )


def _balance_keys(keys: Iterable[tuple[int, int, int | None]]) -> list[tuple[int, int, int | None]]:
    """(item id, location id, lot id) keys once each, in the order their balances are created."""
    return sorted(set(keys), key=lambda k: (k[0], k[1], k[2] or 0))


def _at_keys(balances: list[StockBalance], keys: set) -> dict[tuple[int, int, int | None], StockBalance]:
    """The balances (of :func:`_balances_read`) that are at ``keys``, by key."""
    return {key: b for b in balances if (key := (b.item_id, b.location_id, b.lot_id)) in keys}


def _balances_read(keys: list[tuple[int, int, int | None]]) -> tuple[str, list, list]:
    """The balances of the keys' items at the keys' locations, locked by pk (a few more than the
    keys: the caller keeps those it wants)."""
    item_ids = sorted({k[0] for k in keys})
    location_ids = sorted({k[1] for k in keys})
    return (
        f"SELECT {sql.select_columns(StockBalance, 'b')} FROM inventory_stockbalance b "
        f"WHERE b.item_id IN ({sql.in_list(item_ids)}) AND b.location_id IN ({sql.in_list(location_ids)}) "
        f"ORDER BY b.id {sql.for_update('b')}",
        [*item_ids, *location_ids],
        [StockBalance],
    )


def _lock_with_item(model: type[Lot | SerialNumber], table: str, ids: list[int]) -> dict:
    """Rows of ``table`` (lots or serials) locked by pk, each with its item (not locked here)."""
    if not ids:
        return {}
    rows = sql.fetch_models(
        f"SELECT {sql.select_columns(model, 'r')}, {sql.select_columns(Item, 'i')} "
        f"FROM {table} r JOIN inventory_item i ON i.id = r.item_id "
        f"WHERE r.id IN ({sql.in_list(ids)}) ORDER BY r.id {sql.for_update('r')}",
        ids,
        [model, sql.Part(Item, parent=model._meta.model_name, relation="item")],
    )
    return {row.pk: row for row in rows}


def lock_lots(lots: Iterable) -> dict[int, Lot]:
    return _lock_with_item(Lot, "inventory_lot", _ids(lots))


def lock_serials(serials: Iterable) -> dict[int, SerialNumber]:
    return _lock_with_item(SerialNumber, "inventory_serialnumber", _ids(serials))


def lock_balances(
    *, item_id: int, keys: Iterable[tuple[int, int | None]], locked: dict[tuple[int, int, int | None], StockBalance] | None = None
) -> dict[tuple[int, int | None], StockBalance]:
    """Lock (creating when missing) the balances of one item at the given (location id, lot id)
    pairs (``locked``: as :func:`lock_item_balances` takes it)."""
    found = lock_item_balances(keys=[(item_id, *k) for k in keys], locked=locked)
    return {key[1:]: balance for key, balance in found.items()}


def lock_item_balances(
    *, keys: Iterable[tuple[int, int, int | None]], locked: dict[tuple[int, int, int | None], StockBalance] | None = None
) -> dict[tuple[int, int, int | None], StockBalance]:
    """Lock (creating when missing, all in one insert) the balances at the given (item id,
    location id, lot id) triples, of any number of items, in one query (by pk), under their
    items' locks. ``locked``: balances the caller has locked in this transaction (as
    :func:`lock_item_stock` gives them), by key; those keys are not read again."""
    keys = _balance_keys(keys)
    locked = locked or {}
    found: dict[tuple[int, int, int | None], StockBalance] = {key: locked[key] for key in keys if key in locked}
    unread = [key for key in keys if key not in found]
    if not unread:
        return found
    found |= _at_keys(sql.fetch_models(*_balances_read(unread)), set(unread))
    # The item rows are locked, so no other transaction can be creating these balances.
    missing = [sql.new_row(StockBalance, item_id=key[0], location_id=key[1], lot_id=key[2]) for key in keys if key not in found]
    for balance in sql.insert_rows(StockBalance, missing):
        found[(balance.item_id, balance.location_id, balance.lot_id)] = balance
    return found


def lock_item_stock(items: list, *, before: tuple | None = None) -> tuple[list[StockBalance], list[tuple] | None]:
    """The items' (objects or ids, under their locks) balances that hold stock, locked by pk, with
    what availability reads of their lots and locations attached (``stocks_of`` counts them) —
    for an issue, whose balances are those with stock, so :func:`lock_item_balances` given them
    (by key) reads nothing more.

    ``before``: another read, ``(sql, params, parts)``, whose rows are locked first, in the same
    statement (``mes.sql.fetch_together``). Returns the balances and ``before``'s rows (or ``None``)."""
    from inventory.selectors.stock import stocked_balances_read

    ids = sorted({getattr(i, "pk", i) for i in items})
    reads = ([before] if before is not None else []) + ([stocked_balances_read(ids, lock=True)] if ids else [])
    results = sql.fetch_together(*reads)
    balances = [row[0] for row in results[-1]] if ids else []
    return balances, (results[0] if before is not None else None)


def lock_reservations(reservations: Iterable) -> dict[int, Reservation]:
    ids = _ids(reservations)
    if not ids:
        return {}
    rows = sql.fetch_models(
        f"SELECT {sql.select_columns(Reservation, 'r')} FROM inventory_reservation r "
        f"WHERE r.id IN ({sql.in_list(ids)}) ORDER BY r.id {sql.for_update('r')}",
        ids,
        [Reservation],
    )
    return {r.pk: r for r in rows}


def lock_holds(holds: Iterable) -> dict[int, Hold]:
    ids = _ids(holds)
    if not ids:
        return {}
    return {h.pk: h for h in Hold.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")}
