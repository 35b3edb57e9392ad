"""Writes of the orders app."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from inventory.services import upsert_by_external_id
from orders.models import WorkCenter


def _apply(instance, data: dict[str, Any]) -> None:
    for field, value in data.items():
        setattr(instance, field, value)
    instance.full_clean()
    instance.save()


@transaction.atomic
def work_center_create(*, data: dict[str, Any], user=None) -> WorkCenter:
    work_center = WorkCenter()
    _apply(work_center, data)
    return work_center


@transaction.atomic
def work_center_update(*, work_center: WorkCenter, data: dict[str, Any], user=None) -> WorkCenter:
    work_center = WorkCenter.objects.select_for_update().get(pk=work_center.pk)
    _apply(work_center, data)
    return work_center


def work_center_upsert_by_external_id(*, external_id: str, data: dict[str, Any], user=None):
    return upsert_by_external_id(WorkCenter, external_id=external_id, data=data)
