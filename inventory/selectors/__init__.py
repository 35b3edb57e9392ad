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

from inventory.selectors.trace import forward_leaf_keys, trace_backward, trace_forward  # noqa: E402

__all__ += ["forward_leaf_keys", "trace_backward", "trace_forward"]
