"""Stable error codes of the inventory app."""

INSUFFICIENT_STOCK = "insufficient_stock"
LOT_ON_HOLD = "lot_on_hold"
SERIAL_ON_HOLD = "serial_on_hold"
LOT_EXPIRED = "lot_expired"
UNIT_MISMATCH = "unit_mismatch"
ITEM_IN_USE = "item_in_use"
