"""Reads of the inventory app; import them from here."""

from inventory.selectors.stock import (
    ItemStock,
    availability_for,
    available_quantity,
    item_stock,
    ledger_discrepancies,
    on_hand,
    shortages_for,
)

__all__ = [
    "ItemStock",
    "availability_for",
    "available_quantity",
    "item_stock",
    "ledger_discrepancies",
    "on_hand",
    "shortages_for",
]

from inventory.selectors.trace import (  # noqa: E402
    forward_leaf_keys,
    trace_backward,
    trace_by_code,
    trace_forward,
)

__all__ += ["forward_leaf_keys", "trace_backward", "trace_by_code", "trace_forward"]
