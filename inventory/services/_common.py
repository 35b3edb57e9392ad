"""Input checks and ledger postings shared by the stock services."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from inventory import errors
from inventory.locks import lock_balances
from inventory.models import Hold, Item, Lot, SerialNumber, StockBalance, StockMove
from mes import sql
from mes.quantities import QUANTITY_DIGITS, QUANTITY_PLACES, ZERO, quantize
from mes.rows import update_rows, update_statements

MAX_QUANTITY = Decimal(10) ** (QUANTITY_DIGITS - QUANTITY_PLACES)


def to_decimal(value, *, field: str = "quantity") -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise errors.invalid(f"{value!r} is not a number.", field=field, code="invalid") from None
    if not number.is_finite():
        raise errors.invalid(f"{value!r} is not a number.", field=field, code="invalid")
    return number


def check_quantity(item: Item, value, *, field: str = "quantity", allow_negative: bool = False) -> Decimal:
    """A quantity of ``item``: positive (or non-zero), with no more decimals than its unit allows."""
    number = to_decimal(value, field=field)
    if number == 0 or (number < 0 and not allow_negative):
        raise errors.invalid(
            f"The quantity must be {'non-zero' if allow_negative else 'positive'}.",
            field=field,
            code=errors.QUANTITY_NOT_POSITIVE,
        )
    if abs(number) >= MAX_QUANTITY:
        raise errors.invalid(f"The quantity {number} is too large.", field=field, code="quantity_too_large")
    places = min(item.unit.decimals, QUANTITY_PLACES)
    if number != number.quantize(Decimal(1).scaleb(-places)):
        if places == 0:
            raise errors.invalid(
                f"{item.code} is counted in {item.unit_id}: the quantity must be a whole number, not {number}.",
                field=field,
                code=errors.QUANTITY_NOT_WHOLE,
            )
        raise errors.invalid(
            f"A quantity in {item.unit_id} has at most {places} decimal places, not {number}.",
            field=field,
            code=errors.QUANTITY_PRECISION,
        )
    return quantize(number)


def check_unit(item: Item, unit: str | None) -> None:
    if unit not in (None, "") and unit != item.unit_id:
        raise errors.invalid(
            f"{item.code} is kept in {item.unit_id}, not {unit}.",
            field="unit",
            code=errors.WRONG_UNIT,
            extra={"expected_unit": item.unit_id},
        )


def check_reason(reason: str, *, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise errors.invalid(f"A reason is required for {what}.", field="reason", code=errors.REASON_REQUIRED)
    return reason


def require_no_tracking_input(item: Item, *, lot, serials) -> None:
    if item.tracking == Item.Tracking.NONE and (lot or serials):
        field = "lot_code" if lot else "serial_codes"
        raise errors.invalid(
            f"{item.code} is not tracked by lot or serial number.", field=field, code=errors.NOT_TRACKED
        )
    if item.tracking == Item.Tracking.LOT and serials:
        raise errors.invalid(f"{item.code} is tracked by lot, not serial.", field="serial_codes", code=errors.NOT_TRACKED)


def find_lot(item: Item, lot, *, field: str = "lot") -> Lot | None:
    """``lot`` as a Lot or a code of ``item``'s lots; ``None`` stays ``None``."""
    if lot in (None, ""):
        return None
    if isinstance(lot, Lot):
        if lot.item_id != item.pk:
            raise errors.invalid(f"Lot {lot.code} is not a lot of {item.code}.", field=field, code=errors.WRONG_ITEM)
        return lot
    found = Lot.objects.filter(item=item, code=str(lot)).first()
    if found is None:
        raise errors.invalid(f"{item.code} has no lot {lot}.", field=field, code=errors.LOT_NOT_FOUND)
    return found


def find_serials(item: Item, serials, *, field: str = "serials") -> list[SerialNumber]:
    """``serials`` as SerialNumbers or codes of ``item``; every one must exist, none twice."""
    if not serials:
        return []
    objects = [s for s in serials if isinstance(s, SerialNumber)]
    codes = [str(s) for s in serials if not isinstance(s, SerialNumber)]
    for serial in objects:
        if serial.item_id != item.pk:
            raise errors.invalid(f"Serial {serial.code} is not a serial of {item.code}.", field=field, code=errors.WRONG_ITEM)
    found = {}
    if codes:
        rows = sql.fetch_models(
            f"SELECT {sql.select_columns(SerialNumber, 's')} FROM inventory_serialnumber s "
            f"WHERE s.item_id = %s AND s.code IN ({sql.in_list(codes)})",
            [item.pk, *codes],
            [SerialNumber],
        )
        found = {s.code: s for s in rows}
    missing = [code for code in codes if code not in found]
    if missing:
        raise errors.invalid(
            f"{item.code} has no serial number(s) {', '.join(missing)}.",
            field=field,
            code=errors.SERIAL_NOT_FOUND,
            extra={"serial_codes": missing},
        )
    result = objects + [found[code] for code in codes]
    if len({s.pk for s in result}) != len(result):
        raise errors.invalid("A serial number is listed twice.", field=field, code="duplicate_serial")
    return result


def clean_serial_codes(item: Item, codes, quantity: Decimal, *, field: str = "serial_codes") -> list[str]:
    codes = [str(c).strip() for c in (codes or [])]
    if item.tracking != Item.Tracking.SERIAL:
        return []
    if not codes:
        raise errors.invalid(f"{item.code} is serial-tracked: list the serial numbers.", field=field, code=errors.SERIALS_REQUIRED)
    if any(not c for c in codes):
        raise errors.invalid("A serial number cannot be empty.", field=field, code="invalid")
    if len(set(codes)) != len(codes):
        raise errors.invalid("A serial number is listed twice.", field=field, code="duplicate_serial")
    if Decimal(len(codes)) != quantity:
        raise errors.invalid(
            f"{len(codes)} serial number(s) listed for a quantity of {quantity}.",
            field=field,
            code=errors.SERIAL_COUNT_MISMATCH,
        )
    return codes


def require_serials(item: Item, serials: list, quantity: Decimal, *, field: str = "serials") -> None:
    if item.tracking != Item.Tracking.SERIAL:
        return
    if not serials:
        raise errors.invalid(f"{item.code} is serial-tracked: list the serial numbers.", field=field, code=errors.SERIALS_REQUIRED)
    if Decimal(len(serials)) != quantity:
        raise errors.invalid(
            f"{len(serials)} serial number(s) listed for a quantity of {quantity}.",
            field=field,
            code=errors.SERIAL_COUNT_MISMATCH,
        )


def require_lot(item: Item, lot: Lot | None, *, field: str = "lot") -> None:
    if item.tracking == Item.Tracking.LOT and lot is None:
        raise errors.invalid(f"{item.code} is lot-tracked: name the lot.", field=field, code=errors.LOT_REQUIRED)


def default_expiry(item: Item, expires_on):
    if expires_on is None and item.shelf_life_days:
        return timezone.localdate() + timedelta(days=item.shelf_life_days)
    return expires_on


def get_or_create_lot(item: Item, code: str, *, expires_on=None, supplier_lot: str = "") -> Lot:
    """The lot ``code`` of ``item``, locked, created when new (the caller holds the item's lock, so
    no other transaction can be creating it)."""
    code = str(code).strip()
    if not code:
        raise errors.invalid("A lot code cannot be empty.", field="lot_code", code="invalid")
    found = sql.fetch_models(
        f"SELECT {sql.select_columns(Lot, 'l')} FROM inventory_lot l WHERE l.item_id = %s AND l.code = %s {sql.for_update('l')}",
        [item.pk, code],
        [Lot],
    )
    if found:
        (lot,) = found
    else:
        (lot,) = sql.insert_rows(
            Lot, [Lot(item=item, code=code, expires_on=default_expiry(item, expires_on), supplier_lot=supplier_lot or "")]
        )
    lot.item = item
    return lot


def active_hold_reasons(*, lot: Lot | None = None, serial: SerialNumber | None = None) -> list[str]:
    holds = Hold.objects.filter(status=Hold.Status.ACTIVE)
    holds = holds.filter(lot=lot) if lot is not None else holds.filter(serial=serial)
    return list(holds.order_by("pk").values_list("reason", flat=True))


def check_lot_usable(lot: Lot) -> None:
    """Issue guard: a held or expired lot cannot be used."""
    if lot.status == Lot.Status.ON_HOLD:
        raise errors.LotOnHold(lot=lot, reasons=active_hold_reasons(lot=lot))
    if lot.is_expired():
        raise errors.LotExpired(lot=lot)


def refresh_lot_status(lot: Lot) -> None:
    refresh_lot_statuses([lot])


def refresh_lot_statuses(lots: Iterable[Lot]) -> None:
    """Lot status follows its holds and stock: on hold > available (stock) > consumed/scrapped.
    One query for all the lots, one or two more per lot left without stock, one for the changed lots."""
    lots = {lot.pk: lot for lot in lots if lot is not None}
    if not lots:
        return
    ids = sorted(lots)
    states = sql.fetch(
        "SELECT l.id, "
        "EXISTS (SELECT 1 FROM inventory_hold h WHERE h.lot_id = l.id AND h.status = %s), "
        "EXISTS (SELECT 1 FROM inventory_stockbalance b WHERE b.lot_id = l.id AND b.quantity > 0) "
        f"FROM inventory_lot l WHERE l.id IN ({sql.in_list(ids)})",
        [Hold.Status.ACTIVE.value, *ids],
    )
    changed = []
    for pk, held, stocked in states:
        lot = lots[pk]
        if held:
            status = Lot.Status.ON_HOLD
        elif stocked:
            status = Lot.Status.AVAILABLE
        else:
            status = _status_without_stock(lot)
        if lot.status != status:
            lot.status = status
            changed.append(lot)
    update_rows(Lot, changed, ["status"])


def _status_without_stock(lot: Lot) -> str:
    """A lot without stock: scrapped or consumed as its last move out was; with no move out,
    available when it never moved (a lot just created), else consumed."""
    last_out = sql.fetch(
        "SELECT m.kind FROM inventory_stockmove m WHERE m.lot_id = %s AND m.from_location_id IS NOT NULL ORDER BY m.id DESC LIMIT 1",
        [lot.pk],
    )
    if last_out:
        return Lot.Status.SCRAPPED if last_out[0][0] == StockMove.Kind.SCRAP else Lot.Status.CONSUMED
    moved = sql.fetch("SELECT 1 FROM inventory_stockmove m WHERE m.lot_id = %s LIMIT 1", [lot.pk])
    return Lot.Status.CONSUMED if moved else Lot.Status.AVAILABLE


def serial_enters_stock(serial: SerialNumber, location_id: int) -> None:
    held = Hold.objects.filter(serial=serial, status=Hold.Status.ACTIVE).exists()
    serial.current_location_id = location_id
    serial.status = SerialNumber.Status.ON_HOLD if held else SerialNumber.Status.AVAILABLE
    serial.save(update_fields=["current_location", "status"])


def serial_leaves_stock(serial: SerialNumber, *, status: str) -> None:
    serial.current_location_id = None
    serial.status = status
    serial.save(update_fields=["current_location", "status"])


class Posting:
    """The moves of one service call and their effect on the balances (locked once, written once)."""

    def __init__(self, *, item: Item, user, created_at=None, locked_balances: dict | None = None, **refs):
        self.item = item
        self.locked_balances = locked_balances  # by (item id, location id, lot id): locked by the caller
        self.user = user if user is not None and getattr(user, "is_authenticated", False) else None
        self.created_at = created_at or timezone.now()
        self.refs = refs
        self.moves: list[StockMove] = []
        self.deltas: dict[tuple[int, int | None], Decimal] = {}
        self.reserved_deltas: dict[tuple[int, int | None], Decimal] = {}
        self.balances: dict[tuple[int, int | None], StockBalance] = {}

    def add(
        self,
        *,
        kind: str,
        quantity: Decimal,
        from_location=None,
        to_location=None,
        lot: Lot | None = None,
        serial: SerialNumber | None = None,
        **fields,
    ) -> StockMove:
        move = sql.new_row(
            StockMove,
            kind=kind,
            item=self.item,
            quantity=quantity,
            from_location_id=getattr(from_location, "pk", from_location),
            to_location_id=getattr(to_location, "pk", to_location),
            lot=lot,
            serial=serial,
            user=self.user,
            created_at=self.created_at,
            **{**self.refs, **fields},
        )
        lot_id = lot.pk if lot is not None else None
        if move.from_location_id is not None:
            key = (move.from_location_id, lot_id)
            self.deltas[key] = self.deltas.get(key, ZERO) - quantity
        if move.to_location_id is not None:
            key = (move.to_location_id, lot_id)
            self.deltas[key] = self.deltas.get(key, ZERO) + quantity
        self.moves.append(move)
        return move

    def lock(self, extra_keys: Iterable[tuple[int, int | None]] = ()) -> dict[tuple[int, int | None], StockBalance]:
        self.balances = lock_balances(item_id=self.item.pk, keys=[*self.deltas, *extra_keys], locked=self.locked_balances)
        return self.balances

    def shortfall(self) -> list[dict]:
        """Balances this posting would take below their reserved quantity (or below zero)."""
        out = []
        for key, delta in self.deltas.items():
            if delta >= 0:
                continue
            balance = self.balances[key]
            free = balance.quantity - balance.reserved - self.reserved_deltas.get(key, ZERO)
            if free + delta < 0:
                out.append(
                    {
                        "item": self.item.pk,
                        "item_code": self.item.code,
                        "location": key[0],
                        "lot": key[1],
                        "required": -delta,
                        "available": max(free, ZERO),
                    }
                )
        return out

    def write(self) -> list[StockMove]:
        if not self.balances:
            self.lock()
        write_postings([self])
        return self.moves


def write_postings(postings: list[Posting], *, also: Sequence[list] = ()) -> None:
    """The moves of locked postings (any items) in one insert, their balances in one update, sent
    together (with ``also``: other writes of the caller that read nothing back, see
    ``mes.sql.insert_rows``)."""
    now = timezone.now()
    changed: list[StockBalance] = []
    for posting in postings:
        for key in set(posting.deltas) | set(posting.reserved_deltas):
            balance = posting.balances[key]
            balance.quantity += posting.deltas.get(key, ZERO)
            balance.reserved += posting.reserved_deltas.get(key, ZERO)
            balance.updated_at = now
            changed.append(balance)
    sql.insert_rows(
        StockMove,
        [move for posting in postings for move in posting.moves],
        also=[update_statements(StockBalance, changed, ["quantity", "reserved", "updated_at"]), *also],
    )


def move_payload(moves: list[StockMove]) -> dict:
    first = moves[0]
    return {
        "moves": [m.pk for m in moves],
        "item": first.item_id,
        "item_code": first.item.code,
        "quantity": sum((m.quantity for m in moves), ZERO),
        "from_location": first.from_location_id,
        "to_location": first.to_location_id,
        "lot": first.lot_id,
        "lot_code": first.lot.code if first.lot_id else None,
        "serials": [m.serial.code for m in moves if m.serial_id],
        "work_order_id": first.work_order_id,
        "operation_id": first.operation_id,
    }
