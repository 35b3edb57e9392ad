"""The components a production report issues: the consumed lines as given (scanned lots and
serials, checked usable), the untracked components backflushed, the locations each is drawn
from, and the genealogy they leave (the order's reservations they consume are found by the
stock issue itself).

Reads and refusals only: nothing here writes (see :mod:`orders.services.reports`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from inventory import errors as stock_errors
from inventory.models import (
    Item,
    Location,
    Lot,
    SerialNumber,
    StockBalance,
)
from mes import sql
from mes.errors import ApplicationError, InvalidInput
from mes.quantities import quantize
from orders import errors
from orders.models import WorkOrder, WorkOrderMaterial, WorkOrderOperation
from orders.services.report_checks import counted, hold_reasons


@dataclass
class ConsumedEntry:
    """One consumed line as given (or a backflush), resolved."""

    index: int | None  # position in ``consumed`` (None: backflush)
    item: Item
    quantity: Decimal
    lot: Lot | None = None
    serial: SerialNumber | None = None
    produced_serial: str | None = None
    lot_code: str | None = None
    serial_code: str | None = None
    allocations: list[tuple[int, Decimal]] = field(default_factory=list)  # (location id, quantity)
    stock: list[StockBalance] | None = None  # a lot's balances in stock, read with the lot

    @property
    def field(self) -> str:
        return "consumed" if self.index is None else f"consumed[{self.index}]"


def parse_consumed(consumed, materials: dict[int, WorkOrderMaterial], operation: WorkOrderOperation) -> list[ConsumedEntry]:
    """The consumed lines as given, checked against the operation's requirements; their lots and
    serials are found by :func:`resolve_lots_and_serials`."""
    entries: list[ConsumedEntry] = []
    for index, row in enumerate(consumed or []):
        item_id = getattr(row.get("item"), "pk", row.get("item"))
        material = materials.get(item_id) if isinstance(item_id, int) else None
        if material is None:
            raise ApplicationError(
                f"{item_label(item_id)} is not a component of {operation.work_order.number} at operation {operation.sequence}.",
                code=errors.WRONG_ITEM,
                field=f"consumed[{index}].item",
                extra={"item": item_id, "components": sorted(materials)},
            )
        item = material.item
        lot_code = (row.get("lot") or "").strip() or None
        serial_code = (row.get("serial") or "").strip() or None
        if item.tracking == Item.Tracking.NONE and (lot_code or serial_code):
            raise InvalidInput(
                f"{item.code} is not tracked: scan no lot or serial for it.", field=f"consumed[{index}]", code="item_not_tracked"
            )
        if item.tracking == Item.Tracking.LOT:
            if serial_code:
                raise InvalidInput(f"{item.code} is tracked by lot, not serial.", field=f"consumed[{index}].serial", code="item_not_tracked")
            if not lot_code:
                raise InvalidInput(f"{item.code} is lot-tracked: scan the lot.", field=f"consumed[{index}].lot", code="lot_required")
        if item.tracking == Item.Tracking.SERIAL:
            if not serial_code:
                raise InvalidInput(
                    f"{item.code} is serial-tracked: scan the serial number.", field=f"consumed[{index}].serial", code="serials_required"
                )
        raw = row.get("quantity")
        quantity = counted(item, 1 if raw is None and serial_code else raw, field=f"consumed[{index}].quantity", positive=True)
        if item.tracking == Item.Tracking.SERIAL and quantity != 1:
            raise InvalidInput("A serial number is consumed one at a time.", field=f"consumed[{index}].quantity", code="quantity_not_whole")
        entries.append(
            ConsumedEntry(
                index=index,
                item=item,
                quantity=quantity,
                produced_serial=(row.get("produced_serial") or None),
                lot_code=lot_code,
                serial_code=serial_code,
            )
        )
    return entries


def item_label(item_id) -> str:
    """How a refusal names an item the report gave by id: its code, or the id as given."""
    known = isinstance(item_id, int) and not isinstance(item_id, bool) and 0 < item_id < 2**63
    code = Item.objects.filter(pk=item_id).values_list("code", flat=True).first() if known else None
    return code or f"Item {item_id}"


_BALANCE_FIELDS = ("id", "item", "location", "lot", "quantity", "reserved")
_LOCATION_FIELDS = ("id", "purpose")
_LOT_STOCK_PARTS = (
    sql.Part(Lot),
    sql.Part(StockBalance, fields=_BALANCE_FIELDS, name="balance"),
    sql.Part(Location, fields=_LOCATION_FIELDS, parent="balance", relation="location"),
)


def resolve_lots_and_serials(entries: list[ConsumedEntry], *, lock_lots: bool = False) -> None:
    """Find the scanned lots and serials (one query each) and check they may be used.
    ``lock_lots``: the lots are locked as they are read (their items must be locked already)."""
    lot_keys = {(e.item.pk, e.lot_code) for e in entries if e.lot_code}
    serial_keys = {(e.item.pk, e.serial_code) for e in entries if e.serial_code}
    lots: dict[tuple[int, str], Lot] = {}
    stock: dict[int, list[StockBalance]] = defaultdict(list)
    if lot_keys:
        # The lots with their balances in stock (and those balances' locations), for allocate().
        where, params = _by_item_and_code("l", lot_keys)
        rows = sql.fetch_rows(
            f"SELECT {sql.select_columns(Lot, 'l')}, {sql.select_columns(StockBalance, 'b', _BALANCE_FIELDS)}, "
            f"{sql.select_columns(Location, 'loc', _LOCATION_FIELDS)} FROM inventory_lot l "
            "LEFT JOIN inventory_stockbalance b ON b.lot_id = l.id AND b.quantity > 0 "
            f"LEFT JOIN inventory_location loc ON loc.id = b.location_id WHERE {where} "
            + (f"ORDER BY l.id {sql.for_update('l')}" if lock_lots else ""),
            params,
            _LOT_STOCK_PARTS,
        )
        for lot, balance, _ in rows:
            lot = lots.setdefault((lot.item_id, lot.code), lot)
            if balance is not None:
                stock[lot.pk].append(balance)
    serials: dict[tuple[int, str], SerialNumber] = {}
    if serial_keys:
        where, params = _by_item_and_code("s", serial_keys)
        rows = sql.fetch_models(
            f"SELECT {sql.select_columns(SerialNumber, 's')}, {sql.select_columns(Lot, 'l')} "
            f"FROM inventory_serialnumber s LEFT JOIN inventory_lot l ON l.id = s.lot_id WHERE {where}",
            params,
            [SerialNumber, sql.Part(Lot, parent="serialnumber", relation="lot")],
        )
        serials = {(s.item_id, s.code): s for s in rows}
    seen_serials: set[int] = set()
    today = timezone.localdate()
    for entry in entries:
        lot_code, serial_code = entry.lot_code, entry.serial_code
        if lot_code:
            lot = lots.get((entry.item.pk, lot_code))
            if lot is None:
                raise InvalidInput(f"{entry.item.code} has no lot {lot_code}.", field=f"{entry.field}.lot", code="lot_not_found")
            lot.item = entry.item
            if lot.status == Lot.Status.ON_HOLD:
                raise stock_errors.LotOnHold(lot=lot, reasons=hold_reasons(lot=lot))
            if lot.is_expired(today):
                raise stock_errors.LotExpired(lot=lot)
            entry.lot = lot
            entry.stock = stock[lot.pk]
        if serial_code:
            serial = serials.get((entry.item.pk, serial_code))
            if serial is None:
                raise InvalidInput(
                    f"{entry.item.code} has no serial number {serial_code}.", field=f"{entry.field}.serial", code="serial_not_found"
                )
            serial.item = entry.item
            if serial.pk in seen_serials:
                raise InvalidInput("A serial number is scanned twice.", field=f"{entry.field}.serial", code="duplicate_serial")
            seen_serials.add(serial.pk)
            if serial.status == SerialNumber.Status.ON_HOLD:
                raise stock_errors.SerialOnHold(serial=serial, reasons=hold_reasons(serial=serial))
            if serial.current_location_id is None:
                raise stock_errors.SerialNotAvailable(serial=serial, why=f"is not in stock (it is {serial.status})")
            if serial.lot_id is not None and serial.lot.status == Lot.Status.ON_HOLD:
                serial.lot.item = entry.item
                raise stock_errors.LotOnHold(lot=serial.lot, reasons=hold_reasons(lot=serial.lot))
            entry.serial = serial
            entry.allocations = [(serial.current_location_id, Decimal(1))]


def _by_item_and_code(alias: str, keys: set[tuple[int, str]]) -> tuple[str, list]:
    """``(a.item_id = %s AND a.code = %s) OR …`` for the (item id, code) pairs, and its parameters."""
    ordered = sorted(keys)
    where = " OR ".join([f"({alias}.item_id = %s AND {alias}.code = %s)"] * len(ordered))
    return where, [value for key in ordered for value in key]


def backflush(
    materials: dict[int, WorkOrderMaterial], entries: list[ConsumedEntry], work_order: WorkOrder, before: Decimal, after: Decimal
) -> list[ConsumedEntry]:
    """Untracked components of the operation not named in the report, for the units reported."""
    named = {e.item.pk for e in entries}
    out = []
    for item_id, material in sorted(materials.items()):
        item = material.item
        if item.tracking != Item.Tracking.NONE or item_id in named:
            continue
        places = Decimal(1).scaleb(-min(item.unit.decimals, 3))
        per_unit = material.quantity_required / work_order.quantity
        quantity = (per_unit * after).quantize(places, rounding=ROUND_HALF_UP) - (per_unit * before).quantize(
            places, rounding=ROUND_HALF_UP
        )
        if quantity > 0:
            out.append(ConsumedEntry(index=None, item=item, quantity=quantize(quantity)))
    return out


def allocate(entries: list[ConsumedEntry], line_side_location_id: int | None) -> None:
    """Choose the locations lots and untracked components are drawn from (one query)."""
    wanted = [e for e in entries if e.serial is None]
    if not wanted:
        return
    # Lots' balances came with the lots (resolve_lots_and_serials); the rest are read here.
    balances = [b for e in {id(e.lot): e for e in wanted if e.lot is not None and e.stock is not None}.values() for b in e.stock]
    lot_ids = sorted({e.lot.pk for e in wanted if e.lot is not None and e.stock is None})
    untracked = sorted({e.item.pk for e in wanted if e.lot is None})
    conditions = []
    if lot_ids:
        conditions.append(f"b.lot_id IN ({sql.in_list(lot_ids)})")
    if untracked:
        conditions.append(f"(b.item_id IN ({sql.in_list(untracked)}) AND b.lot_id IS NULL)")
    if conditions:
        balances += sql.fetch_models(
            f"SELECT {sql.select_columns(StockBalance, 'b', _BALANCE_FIELDS)}, {sql.select_columns(Location, 'l', _LOCATION_FIELDS)} "
            "FROM inventory_stockbalance b JOIN inventory_location l ON l.id = b.location_id "
            f"WHERE ({' OR '.join(conditions)}) AND b.quantity > 0",
            [*lot_ids, *untracked],
            [
                sql.Part(StockBalance, fields=_BALANCE_FIELDS),
                sql.Part(Location, fields=_LOCATION_FIELDS, parent="stockbalance", relation="location"),
            ],
        )
    by_key: dict[tuple[int, int | None], list[list]] = defaultdict(list)
    for b in balances:
        by_key[(b.item_id, b.lot_id)].append([b.location_id, b.quantity - b.reserved, b.location.purpose, b.pk])
    for candidates in by_key.values():
        candidates.sort(
            key=lambda c: (c[0] != line_side_location_id, c[2] != Location.Purpose.LINE_SIDE, -c[1], c[3])
        )
    for entry in wanted:
        key = (entry.item.pk, entry.lot.pk if entry.lot else None)
        remaining = entry.quantity
        for candidate in by_key.get(key, []):
            if remaining <= 0:
                break
            take = min(remaining, candidate[1])
            if take <= 0:
                continue
            entry.allocations.append((candidate[0], take))
            candidate[1] -= take
            remaining -= take
        if remaining > 0:
            available = entry.quantity - remaining
            raise stock_errors.InsufficientStock(
                shortages=[
                    {
                        "item": entry.item.pk,
                        "item_code": entry.item.code,
                        "location": None,
                        "lot": entry.lot.pk if entry.lot else None,
                        "lot_code": entry.lot.code if entry.lot else None,
                        "required": entry.quantity,
                        "available": available,
                    }
                ]
            )


def genealogy_nodes(entries: list[ConsumedEntry], produced_codes: list[str]) -> list[tuple]:
    """Consumed lots and serials for the genealogy. A lot is shared out over the produced units.
    A consumed serial goes into the produced serial it names; otherwise the serials of one
    component are dealt to the produced serials in the order both were listed — k each when
    there are k times as many, else one each, and any left over went into scrapped units and
    are not linked (they were issued to the order all the same)."""
    nodes: list[tuple] = []
    serial_entries: dict[int, list[ConsumedEntry]] = defaultdict(list)
    for entry in entries:
        if entry.serial is not None:
            serial_entries[entry.item.pk].append(entry)
        elif entry.lot is not None:
            nodes.append((entry.lot, entry.quantity))
    produced = len(produced_codes)
    for rows in serial_entries.values():
        named = [e for e in rows if e.produced_serial]
        dealt = [e for e in rows if not e.produced_serial]
        nodes.extend((e.serial, Decimal(1), e.produced_serial) for e in named)
        if produced == 0:
            continue
        if produced == 1:
            nodes.extend((e.serial, Decimal(1)) for e in dealt)
            continue
        per_unit = len(dealt) // produced if len(dealt) % produced == 0 and dealt else 1
        for position, entry in enumerate(dealt):
            target = position // per_unit
            if target < produced:
                nodes.append((entry.serial, Decimal(1), produced_codes[target]))
    return nodes


