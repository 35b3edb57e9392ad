"""Quantities are decimals with a fixed scale, never floats."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import models

QUANTITY_DIGITS = 18
QUANTITY_PLACES = 3
QUANTUM = Decimal(1).scaleb(-QUANTITY_PLACES)
ZERO = Decimal("0.000")


class QuantityField(models.DecimalField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", QUANTITY_DIGITS)
        kwargs.setdefault("decimal_places", QUANTITY_PLACES)
        super().__init__(*args, **kwargs)


def quantize(value: Decimal | int | str) -> Decimal:
    """Round to the ledger's scale (half up), e.g. for exploded BOM requirements."""
    return Decimal(value).quantize(QUANTUM, rounding=ROUND_HALF_UP)
