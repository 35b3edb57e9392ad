"""Recording business events into the outbox, and in-process reactions to them.

Services call :func:`record_event` inside their own transaction, so an event exists exactly
when the change it describes committed. Delivery (feed, webhooks) reads the outbox later.

An app that must react to another app's event *in the same transaction* without importing it
(quality creating an inspection when inventory receives a lot) registers a reaction with
:func:`react_to` from its ``AppConfig.ready()``. Reactions run right after the event row is
written; if one raises, the whole change rolls back. Keep them small: they call a service.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from mes.api.request_id import current_request_id
from mes.models import Event


class OutsideTransaction(RuntimeError):
    pass


Reaction = Callable[[Event], None]
_reactions: dict[str, list[Reaction]] = defaultdict(list)


def react_to(event_type: str, reaction: Reaction) -> None:
    """Run ``reaction(event)`` inside the transaction of every ``event_type`` event."""
    if reaction not in _reactions[event_type]:
        _reactions[event_type].append(reaction)


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
    event = Event.objects.create(
        type=type,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        payload=_jsonable(payload),
        payload_version=payload_version,
        occurred_at=timezone.now(),
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        request_id="" if request_id == "-" else request_id,
    )
    for reaction in _reactions.get(type, ()):
        reaction(event)
    transaction.on_commit(_kick_relay)
    return event


def _kick_relay() -> None:
    from mes.webhooks.relay import kick

    kick()
