"""Recording business events into the outbox.

Services call :func:`record_event` inside their own transaction, so an event exists exactly
when the change it describes committed. Delivery (feed, webhooks) reads the outbox later.
"""

from __future__ import annotations

from typing import Any

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from mes.api.request_id import current_request_id
from mes.models import Event


class OutsideTransaction(RuntimeError):
    pass


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def record_event(
    *,
    type: str,
    aggregate_type: str,
    aggregate_id: int | str,
    payload: dict[str, Any],
    actor=None,
    payload_version: int = 1,
) -> Event:
    if not transaction.get_connection().in_atomic_block:
        raise OutsideTransaction("record_event must be called inside the service's transaction")
    request_id = current_request_id()
    connection = transaction.get_connection()
    txid = RawSQL("pg_current_xact_id()::text::bigint", []) if connection.vendor == "postgresql" else None
    event = Event.objects.create(
        type=type,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        payload=_jsonable(payload),
        payload_version=payload_version,
        occurred_at=timezone.now(),
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        request_id="" if request_id == "-" else request_id,
        txid=txid,
    )
    transaction.on_commit(_kick_relay)
    return event


def _kick_relay() -> None:
    from mes.webhooks.relay import kick

    kick()
