"""Reads of stock: on hand, availability, shortages, and the ledger check.

Available = on hand − held − reserved, at the plant's own locations (stock at the virtual
supplier, customer, scrap and production locations is never available). Held stock is a lot on hold or expired, or a serial on
hold. Reservations may be for an item as a whole (a work order's), for one location, one lot,
or both; availability in a scope is the least of what is free in that scope and in every wider
scope, so a reservation for the whole item still counts against stock in one bin.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from inventory.models import (
    Item,
    Location,
    Lot,
    Reservation,
    SerialNumber,
    StockBalance,
    StockMove,
)
from mes import sql
from mes.quantities import ZERO


# Stock at these virtual locations has left the plant (or is being made): on hand, never available.
OUTSIDE_PURPOSES = frozenset(
    {Location.Purpose.SUPPLIER, Location.Purpose.CUSTOMER, Location.Purpose.SCRAP, Location.Purpose.PRODUCTION}
)


def _pk(value) -> int | None:
    return getattr(value, "pk", value)


@dataclass
class _Row:
    location_id: int
    lot_id: int | None
    quantity: Decimal
    usable: Decimal


@dataclass
class ItemStock:
    """Everything availability needs for one item, fetched in a fixed number of queries."""

    item_id: int
    rows: list[_Row] = field(default_factory=list)
    reservations: list[tuple[int, int | None, int | None, Decimal]] = field(default_factory=list)

    def _matches(self, location_id, lot_id, scope_location, scope_lot) -> bool:
        return (scope_location is None or location_id == scope_location) and (scope_lot is None or lot_id == scope_lot)

    def on_hand(self, location_id=None, lot_id=None) -> Decimal:
        return sum((r.quantity for r in self.rows if self._matches(r.location_id, r.lot_id, location_id, lot_id)), ZERO)

    def usable(self, location_id=None, lot_id=None) -> Decimal:
        return sum((r.usable for r in self.rows if self._matches(r.location_id, r.lot_id, location_id, lot_id)), ZERO)

    def reserved(self, location_id=None, lot_id=None, exclude: int | None = None) -> Decimal:
        return sum(
            (
                remaining
                for pk, r_location, r_lot, remaining in self.reservations
                if pk != exclude and self._matches(r_location, r_lot, location_id, lot_id)
            ),
            ZERO,
        )

    def available(self, location_id=None, lot_id=None, exclude_reservation: int | None = None) -> Decimal:
        scopes = {(None, None), (location_id, None), (None, lot_id), (location_id, lot_id)}
        free = min(self.usable(loc, lot) - self.reserved(loc, lot, exclude_reservation) for loc, lot in scopes)
        return max(free, ZERO)


# What item_stock reads of a balance, its lot and its location, and of an open reservation.
_BALANCE_FIELDS = ("item_id", "location_id", "lot_id", "quantity")
_LOT_FIELDS = ("id", "status", "expires_on")
_LOCATION_FIELDS = ("id", "purpose")
_RESERVATION_FIELDS = ("id", "item_id", "location_id", "lot_id", "quantity", "quantity_consumed", "quantity_released")
_RESERVATION_PARTS = (sql.Part(Reservation, fields=_RESERVATION_FIELDS),)


def item_stock(items: Iterable, *, open_reservations: list[Reservation] | None = None) -> dict[int, ItemStock]:
    """Balances (with what of them is held) and open reservations of the given items (objects or
    ids): two queries, three when serials may be on hold (an id, or a serial-tracked item); one
    fewer when the caller has just read (and locked) every open reservation of these items."""
    items = list(items)
    ids = sorted({_pk(i) for i in items})
    if not ids:
        return {}
    balances = stocked_balances(ids, balance_fields=_BALANCE_FIELDS)
    return stocks_of(items, balances, open_reservations=open_reservations)


def stocked_balances(ids: list[int], *, balance_fields: tuple[str, ...] | None = None, lock: bool = False) -> list[StockBalance]:
    """The balances of the items ``ids`` that hold stock, each with what availability reads of its
    lot and location attached: ``balance_fields`` of them (all by default); with ``lock``, the
    balances locked (by pk)."""
    return sql.fetch_models(*stocked_balances_read(ids, balance_fields=balance_fields, lock=lock))


def stocked_balances_read(ids: list[int], *, balance_fields: tuple[str, ...] | None = None, lock: bool = False) -> tuple[str, list, list]:
    """The read of :func:`stocked_balances`, as ``(sql, params, parts)`` (``mes.sql.fetch_together``)."""
    order = f" ORDER BY b.id {sql.for_update('b')}" if lock else ""
    text = (
        f"SELECT {sql.select_columns(StockBalance, 'b', balance_fields)}, {sql.select_columns(Lot, 'l', _LOT_FIELDS)}, "
        f"{sql.select_columns(Location, 'loc', _LOCATION_FIELDS)} FROM inventory_stockbalance b "
        "LEFT JOIN inventory_lot l ON l.id = b.lot_id JOIN inventory_location loc ON loc.id = b.location_id "
        f"WHERE b.item_id IN ({sql.in_list(ids)}) AND b.quantity > 0{order}"
    )
    parts = [
        sql.Part(StockBalance, fields=balance_fields),
        sql.Part(Lot, fields=_LOT_FIELDS, parent="stockbalance", relation="lot"),
        sql.Part(Location, fields=_LOCATION_FIELDS, parent="stockbalance", relation="location"),
    ]
    return text, list(ids), parts


def stocks_of(items: list, balances: list[StockBalance], *, open_reservations: list[Reservation] | None = None) -> dict[int, ItemStock]:
    """:func:`item_stock` from the items' balances with stock (:func:`stocked_balances`) read by the
    caller: the held serials and open reservations (unless
    given) read here."""
    ids = sorted({_pk(i) for i in items})
    stocks = {pk: ItemStock(item_id=pk) for pk in ids}
    today = timezone.localdate()
    maybe_serial = [_pk(i) for i in items if not isinstance(i, Item) or i.tracking == Item.Tracking.SERIAL]
    held_serials: dict[tuple[int, int, int | None], int] = {}
    if maybe_serial:
        for item_id, location_id, lot_id, count in sql.fetch(
            "SELECT s.item_id, s.current_location_id, s.lot_id, COUNT(s.id) FROM inventory_serialnumber s "
            f"WHERE s.item_id IN ({sql.in_list(maybe_serial)}) AND s.status = %s AND s.current_location_id IS NOT NULL "
            "GROUP BY s.item_id, s.current_location_id, s.lot_id",
            [*maybe_serial, SerialNumber.Status.ON_HOLD.value],
        ):
            held_serials[(item_id, location_id, lot_id)] = count
    for balance in balances:
        quantity, lot = balance.quantity, balance.lot
        lot_blocked = lot is not None and (
            lot.status == Lot.Status.ON_HOLD or (lot.expires_on is not None and lot.expires_on < today)
        )
        held = held_serials.get((balance.item_id, balance.location_id, balance.lot_id), 0)
        outside = balance.location.purpose in OUTSIDE_PURPOSES
        usable = ZERO if lot_blocked or outside else max(quantity - held, ZERO)
        stocks[balance.item_id].rows.append(_Row(balance.location_id, balance.lot_id, quantity, usable))
    reservations = open_reservations if open_reservations is not None else sql.fetch_models(
        f"SELECT {sql.select_columns(Reservation, 'r', _RESERVATION_FIELDS)} FROM inventory_reservation r "
        f"WHERE r.item_id IN ({sql.in_list(ids)}) AND r.status = %s",
        [*ids, Reservation.Status.OPEN.value],
        _RESERVATION_PARTS,
    )
    for reservation in reservations:
        stocks[reservation.item_id].reservations.append(
            (reservation.pk, reservation.location_id, reservation.lot_id, reservation.remaining)
        )
    return stocks


def available_quantity(*, item, location=None, lot=None, exclude_reservation=None) -> Decimal:
    """What can still be issued or reserved: on hand − held − reserved (in the scope and every wider one)."""
    stock = item_stock([item])[_pk(item)]
    return stock.available(_pk(location), _pk(lot), _pk(exclude_reservation))


def on_hand(*, item, location=None, lot=None) -> Decimal:
    filters = Q(item_id=_pk(item))
    if location is not None:
        filters &= Q(location_id=_pk(location))
    if lot is not None:
        filters &= Q(lot_id=_pk(lot))
    return StockBalance.objects.filter(filters).aggregate(total=Sum("quantity"))["total"] or ZERO


def _requirements_by_item(requirements) -> dict[int, Decimal]:
    required: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for item, quantity in requirements:
        required[_pk(item)] += Decimal(quantity)
    return required


def availability_for(*, requirements: Iterable[tuple]) -> list[dict]:
    """For each item of ``requirements`` ((item, quantity) pairs, repeated items summed):
    ``{item, item_code, required, available, shortage}``, in item-code order. Four queries."""
    required = _requirements_by_item(requirements)
    stocks = item_stock(required)
    codes = dict(Item.objects.filter(pk__in=required).values_list("pk", "code"))
    out = []
    for item_id, quantity in required.items():
        available = stocks[item_id].available()
        out.append(
            {
                "item": item_id,
                "item_code": codes.get(item_id, ""),
                "required": quantity,
                "available": available,
                "shortage": max(quantity - available, ZERO),
            }
        )
    return sorted(out, key=lambda row: row["item_code"])


def shortages_for(*, requirements: Iterable[tuple]) -> list[dict]:
    """The requirements that available stock cannot cover: ``[{item, item_code, required, available, shortage}]``."""
    return [row for row in availability_for(requirements=requirements) if row["shortage"] > 0]


def ledger_discrepancies() -> list[dict]:
    """Every way the balances disagree with the ledger; empty when the books are right.

    Checks: each balance equals the moves into it minus the moves out of it (and no moves
    without a balance); each balance's ``reserved`` equals the open reservations pinned to it;
    serial-tracked balances equal the count of serials located there.
    """
    sums: dict[tuple[int, int, int | None], Decimal] = defaultdict(lambda: ZERO)
    for row in (
        StockMove.objects.filter(to_location__isnull=False)
        .values("item_id", "to_location_id", "lot_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    ):
        sums[(row["item_id"], row["to_location_id"], row["lot_id"])] += row["total"]
    for row in (
        StockMove.objects.filter(from_location__isnull=False)
        .values("item_id", "from_location_id", "lot_id")
        .annotate(total=Sum("quantity"))
        .order_by()
    ):
        sums[(row["item_id"], row["from_location_id"], row["lot_id"])] -= row["total"]

    pinned: dict[tuple[int, int, int | None], Decimal] = defaultdict(lambda: ZERO)
    for row in Reservation.objects.filter(status=Reservation.Status.OPEN, location__isnull=False).values(
        "item_id", "location_id", "lot_id", "quantity", "quantity_consumed", "quantity_released"
    ):
        pinned[(row["item_id"], row["location_id"], row["lot_id"])] += (
            row["quantity"] - row["quantity_consumed"] - row["quantity_released"]
        )

    serial_counts: dict[tuple[int, int, int | None], int] = {
        (row["item_id"], row["current_location_id"], row["lot_id"]): row["n"]
        for row in SerialNumber.objects.filter(current_location__isnull=False)
        .values("item_id", "current_location_id", "lot_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    serial_items = set(Item.objects.filter(tracking=Item.Tracking.SERIAL).values_list("pk", flat=True))

    problems: list[dict] = []
    balances = {
        (row["item_id"], row["location_id"], row["lot_id"]): row
        for row in StockBalance.objects.values("id", "item_id", "location_id", "lot_id", "quantity", "reserved")
    }
    for key in sorted(set(balances) | set(sums), key=lambda k: (k[0], k[1], k[2] or 0)):
        ledger = sums.get(key, ZERO)
        balance = balances.get(key)
        quantity = balance["quantity"] if balance else ZERO
        base = {"item": key[0], "location": key[1], "lot": key[2]}
        if quantity != ledger:
            problems.append({**base, "check": "balance_vs_ledger", "balance": quantity, "ledger": ledger})
        reserved = balance["reserved"] if balance else ZERO
        if reserved != pinned.get(key, ZERO):
            problems.append({**base, "check": "reserved_vs_reservations", "balance": reserved, "ledger": pinned[key]})
        if key[0] in serial_items and Decimal(serial_counts.get(key, 0)) != quantity:
            problems.append(
                {**base, "check": "balance_vs_serials", "balance": quantity, "ledger": Decimal(serial_counts.get(key, 0))}
            )
    for key, count in serial_counts.items():
        if key not in balances:
            problems.append(
                {"item": key[0], "location": key[1], "lot": key[2], "check": "balance_vs_serials", "balance": ZERO, "ledger": Decimal(count)}
            )
    return problems
