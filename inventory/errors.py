"""Stable error codes of the inventory app and the errors that carry them.

Refusals of a business rule are 409; malformed requests (a quantity with too many decimals for
its unit, a lot given for an untracked item, ...) are 400 and name the field at fault.
"""

from __future__ import annotations

from decimal import Decimal

from mes.errors import ApplicationError, InvalidInput
from mes.quantities import quantize

INSUFFICIENT_STOCK = "insufficient_stock"
LOT_ON_HOLD = "lot_on_hold"
SERIAL_ON_HOLD = "serial_on_hold"
LOT_EXPIRED = "lot_expired"
UNIT_MISMATCH = "unit_mismatch"
ITEM_IN_USE = "item_in_use"
WRONG_UNIT = "wrong_unit"
QUANTITY_NOT_WHOLE = "quantity_not_whole"
QUANTITY_PRECISION = "quantity_precision"
QUANTITY_NOT_POSITIVE = "quantity_not_positive"
SERIAL_NOT_AVAILABLE = "serial_not_available"
SERIAL_ALREADY_EXISTS = "serial_already_exists"
SERIAL_COUNT_MISMATCH = "serial_count_mismatch"
SERIALS_REQUIRED = "serials_required"
LOT_REQUIRED = "lot_required"
NOT_TRACKED = "item_not_tracked"
LOT_NOT_FOUND = "lot_not_found"
SERIAL_NOT_FOUND = "serial_not_found"
WRONG_ITEM = "wrong_item"
SAME_LOCATION = "same_location"
ALREADY_REVERSED = "already_reversed"
REVERSAL_NOT_REVERSIBLE = "reversal_not_reversible"
RESERVATION_EXCEEDED = "reservation_exceeded"
AMBIGUOUS_GENEALOGY = "ambiguous_genealogy"
GENEALOGY_CYCLE = "genealogy_cycle"
REASON_REQUIRED = "reason_required"


def _text(value: Decimal) -> str:
    return str(quantize(value))


class InsufficientStock(ApplicationError):
    """Not enough available stock (on hand minus reserved minus held); lists the shortages."""

    code = INSUFFICIENT_STOCK

    def __init__(self, *, shortages: list[dict], message: str | None = None):
        if message is None:
            parts = [f"{s['item_code']}: required {s['required']}, available {s['available']}" for s in shortages]
            message = "Not enough stock available. " + "; ".join(parts) + "."
        # The problem document carries quantities as decimal strings; ``self.shortages`` keeps Decimals.
        shown = [{k: _text(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in shortages]
        super().__init__(message, extra={"shortages": shown}, field="quantity")
        self.shortages = shortages


class LotOnHold(ApplicationError):
    code = LOT_ON_HOLD

    def __init__(self, *, lot, reasons: list[str]):
        reason = "; ".join(reasons) or "no reason recorded"
        super().__init__(
            f"Lot {lot.code} of {lot.item.code} is on hold ({reason}) and cannot be used.",
            extra={"lot": lot.pk, "lot_code": lot.code, "hold_reasons": reasons},
            field="lot",
        )


class SerialOnHold(ApplicationError):
    code = SERIAL_ON_HOLD

    def __init__(self, *, serial, reasons: list[str]):
        reason = "; ".join(reasons) or "no reason recorded"
        super().__init__(
            f"Serial {serial.code} of {serial.item.code} is on hold ({reason}) and cannot be used.",
            extra={"serial": serial.pk, "serial_code": serial.code, "hold_reasons": reasons},
            field="serials",
        )


class LotExpired(ApplicationError):
    code = LOT_EXPIRED

    def __init__(self, *, lot):
        super().__init__(
            f"Lot {lot.code} of {lot.item.code} expired on {lot.expires_on.isoformat()} and cannot be used.",
            extra={"lot": lot.pk, "lot_code": lot.code, "expires_on": lot.expires_on.isoformat()},
            field="lot",
        )


class SerialNotAvailable(ApplicationError):
    code = SERIAL_NOT_AVAILABLE

    def __init__(self, *, serial, why: str):
        super().__init__(
            f"Serial {serial.code} of {serial.item.code} {why}.",
            extra={"serial": serial.pk, "serial_code": serial.code, "serial_status": serial.status},
            field="serials",
        )


class SerialAlreadyExists(ApplicationError):
    code = SERIAL_ALREADY_EXISTS

    def __init__(self, *, item, codes: list[str]):
        super().__init__(
            f"Serial number(s) {', '.join(codes)} of {item.code} already exist.",
            extra={"serial_codes": codes},
            field="serial_codes",
        )


class AlreadyReversed(ApplicationError):
    code = ALREADY_REVERSED

    def __init__(self, *, move):
        super().__init__(f"Stock move #{move.pk} has already been reversed.", extra={"move": move.pk}, field="move")


class ReversalNotReversible(ApplicationError):
    code = REVERSAL_NOT_REVERSIBLE

    def __init__(self, *, move):
        super().__init__(
            f"Stock move #{move.pk} is itself a reversal; post a new move instead.", extra={"move": move.pk}, field="move"
        )


def invalid(message: str, *, field: str, code: str, extra: dict | None = None) -> InvalidInput:
    return InvalidInput(message, field=field, code=code, extra=extra)
