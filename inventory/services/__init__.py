"""Writes of the inventory app, grouped by concept; import them from here."""

from inventory.locks import lock_items, lock_items_with_balances
from inventory.services.genealogy import link_consumed, link_genealogy
from inventory.services.holds import place_hold, place_holds, release_hold
from inventory.services.issues import IssueLine, issue, issue_lines, scrap
from inventory.services.lots import lot_update
from inventory.services.master import (
    item_create,
    item_update,
    item_upsert_by_external_id,
    location_create,
    location_update,
    location_upsert_by_external_id,
    upsert_by_external_id,
)
from inventory.services.movements import adjust, transfer
from inventory.services.recall import recall_run, recall_start
from inventory.services.receipts import produce, receive
from inventory.services.reservations import (
    release_reservation,
    release_reservations_for,
    reserve,
    reserve_many,
)
from inventory.services.reversals import reverse_move

__all__ = [
    "IssueLine",
    "adjust",
    "issue",
    "issue_lines",
    "item_create",
    "item_update",
    "item_upsert_by_external_id",
    "link_consumed",
    "lock_items",
    "lock_items_with_balances",
    "link_genealogy",
    "location_create",
    "lot_update",
    "location_update",
    "location_upsert_by_external_id",
    "place_hold",
    "place_holds",
    "produce",
    "recall_run",
    "recall_start",
    "receive",
    "release_hold",
    "release_reservation",
    "release_reservations_for",
    "reserve",
    "reserve_many",
    "reverse_move",
    "scrap",
    "transfer",
    "upsert_by_external_id",
]
