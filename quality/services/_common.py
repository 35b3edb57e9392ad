"""Helpers shared by the quality services."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from quality import errors


def actor(user):
    """The user to store on a row: None for a missing or anonymous user."""
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def whole_units(quantity) -> int:
    """A lot size in whole units (a fraction counts as one more unit)."""
    return max(int(math.ceil(Decimal(quantity))), 0)


def to_decimal(value, *, field: str) -> Decimal:
    if isinstance(value, bool):
        raise errors.invalid(f"{value!r} is not a number.", field=field, code="invalid")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise errors.invalid(f"{value!r} is not a number.", field=field, code="invalid") from None
    if not number.is_finite():
        raise errors.invalid(f"{value!r} is not a number.", field=field, code="invalid")
    return number


def validation_error_for(exc: ValidationError, *, prefix: str = "") -> ValidationError:
    """A model's ValidationError with its fields named as the API names them (``prefix.field``)."""
    if not hasattr(exc, "error_dict"):
        return ValidationError({prefix or "non_field_errors": exc.messages})
    renamed = {}
    for name, messages in exc.message_dict.items():
        if name in ("__all__", "non_field_errors"):
            key = prefix or "non_field_errors"
        else:
            key = f"{prefix}.{name}" if prefix else name
        renamed.setdefault(key, []).extend(messages)
    return ValidationError(renamed)
