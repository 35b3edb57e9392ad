"""Inventory data: item master and locations, lots and serials, the stock ledger, genealogy."""

from inventory.models.genealogy import GenealogyLink, RecallJob
from inventory.models.master import Item, Location, UnitOfMeasure
from inventory.models.stock import (
    Hold,
    Lot,
    Reservation,
    SerialNumber,
    StockBalance,
    StockMove,
)

__all__ = [
    "GenealogyLink",
    "Hold",
    "Item",
    "Location",
    "Lot",
    "RecallJob",
    "Reservation",
    "SerialNumber",
    "StockBalance",
    "StockMove",
    "UnitOfMeasure",
]
