"""Writes to the item master and the location tree."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction

from inventory.models import Item, Location


def _apply(instance, data: dict[str, Any]) -> None:
    for field, value in data.items():
        setattr(instance, field, value)
    instance.full_clean()
    instance.save()


@transaction.atomic
def item_create(*, data: dict[str, Any], user=None) -> Item:
    item = Item()
    _apply(item, data)
    return item


@transaction.atomic
def item_update(*, item: Item, data: dict[str, Any], user=None) -> Item:
    item = Item.objects.select_for_update().get(pk=item.pk)
    _apply(item, data)
    return item


def upsert_by_external_id(model: type[models.Model], *, external_id: str, data: dict[str, Any]):
    """Create or update one row keyed by the ERP's ``external_id``; safe against a racing insert."""
    with transaction.atomic():
        instance = model.objects.select_for_update().filter(external_id=external_id).first()
        if instance is not None:
            _apply(instance, data)
            return instance, False
        try:
            with transaction.atomic():
                instance = model(external_id=external_id)
                _apply(instance, data)
                return instance, True
        except IntegrityError:
            instance = model.objects.select_for_update().get(external_id=external_id)
            _apply(instance, data)
            return instance, False


def item_upsert_by_external_id(*, external_id: str, data: dict[str, Any], user=None) -> tuple[Item, bool]:
    return upsert_by_external_id(Item, external_id=external_id, data=data)


@transaction.atomic
def location_create(*, data: dict[str, Any], user=None) -> Location:
    location = Location()
    _apply(location, data)
    return location


@transaction.atomic
def location_update(*, location: Location, data: dict[str, Any], user=None) -> Location:
    location = Location.objects.select_for_update().get(pk=location.pk)
    _apply(location, data)
    return location


def location_upsert_by_external_id(
    *, external_id: str, data: dict[str, Any], user=None
) -> tuple[Location, bool]:
    return upsert_by_external_id(Location, external_id=external_id, data=data)
