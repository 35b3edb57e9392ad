"""Corrections to a lot's master data (its stock and status change only through the ledger and holds)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from inventory.locks import lock_lots
from inventory.models import Lot
from mes.events import record_event

EDITABLE = ("expires_on", "supplier_lot")


@transaction.atomic
def lot_update(*, lot: Lot, data: dict[str, Any], user) -> Lot:
    lot = lock_lots([lot])[lot.pk]
    changed = {}
    for field in EDITABLE:
        if field in data and getattr(lot, field) != data[field]:
            changed[field] = {"from": getattr(lot, field), "to": data[field]}
            setattr(lot, field, data[field])
    if changed:
        lot.full_clean()
        lot.save(update_fields=list(changed))
        record_event(
            type="lot.updated", aggregate_type="lot", aggregate_id=lot.pk, payload={"lot": lot.pk, "code": lot.code, "changes": changed}, actor=user
        )
    return lot
