"""Helpers shared by the orders services: apply validated data, build nested child rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction


def apply_fields(instance: models.Model, data: dict[str, Any], *, exclude: Iterable[str] = ()) -> None:
    """Set the fields and validate the row (field rules, ``clean()``, uniqueness)."""
    for name, value in data.items():
        setattr(instance, name, value)
    instance.full_clean(exclude=list(exclude) or None)


def build_children(
    model: type[models.Model], rows: list[dict[str, Any]], *, prefix: str, exclude: Iterable[str]
) -> list[models.Model]:
    """Unsaved child rows, each validated; errors are reported as ``<prefix>.<i>.<field>`` (the API's style for nested rows).

    Foreign keys already resolved to instances are listed in ``exclude`` so validation does
    not look each of them up again.
    """
    objects, problems = [], {}
    for index, row in enumerate(rows):
        obj = model(**row)
        try:
            obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                key = f"{prefix}.{index}" if name == "__all__" else f"{prefix}.{index}.{name}"
                problems.setdefault(key, []).extend(messages)
        objects.append(obj)
    if problems:
        raise ValidationError(problems)
    return objects


def upsert(
    model: type[models.Model],
    *,
    external_id: str,
    create: Callable[[], models.Model],
    update: Callable[[models.Model], models.Model],
) -> tuple[models.Model, bool]:
    """Create or update the row with this ``external_id``; safe against a racing insert."""
    with transaction.atomic():
        existing = model.objects.select_for_update(of=("self",)).filter(external_id=external_id).first()
        if existing is not None:
            return update(existing), False
        try:
            with transaction.atomic():
                return create(), True
        except IntegrityError:
            existing = model.objects.select_for_update(of=("self",)).filter(external_id=external_id).first()
            if existing is None:
                raise
            return update(existing), False
