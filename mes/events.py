"""Recording business events into the outbox, and in-process reactions to them.

Services call :func:`record_event` inside their own transaction, so an event exists exactly
when the change it describes committed. Delivery (feed, webhooks) reads the outbox later.

An app that must react to another app's event *in the same transaction* without importing it
(quality creating an inspection when inventory receives a lot) registers a reaction with
:func:`react_to` from its ``AppConfig.ready()``. Reactions run right after the event row is
written; if one raises, the whole change rolls back. Keep them small: they call a service.
"""

from __future__ import annotations

import json
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from mes import sql
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
    (event,) = record_events(
        [
            {
                "type": type,
                "aggregate_type": aggregate_type,
                "aggregate_id": aggregate_id,
                "payload": payload,
                "actor": actor,
                "payload_version": payload_version,
            }
        ]
    )
    return event


class _Batch:
    """The events of an :func:`events_batched` block, and the writes to send with them."""

    __slots__ = ("events", "writes")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.writes: list[list[tuple[str, list]]] = []


_batch: ContextVar[_Batch | None] = ContextVar("mes_events_batch", default=None)


@contextmanager
def events_batched():
    """Inside this block (or a function it decorates) the events recorded are kept and written in
    one insert when it ends; their reactions run then, in the order the events were recorded.
    For a service whose refusals fail it whole (nothing inside catches one and goes on): the
    events of a failed block are dropped with its transaction. Nested blocks write with the
    outermost one."""
    if _batch.get() is not None:
        yield
        return
    token = _batch.set(_Batch())
    try:
        yield
        batch = _batch.get()
    finally:
        _batch.reset(token)
    _write(batch.events, batch.writes)


def write_with_events(*statements: list[tuple[str, list]]) -> None:
    """Writes that read nothing back (``mes.sql.insert_statement``, ``mes.rows.update_statements``)
    sent in the statement that inserts the events of the :func:`events_batched` block around
    (when it ends, before the events' reactions run); without such a block, now. For rows that
    nothing in the block reads after this call."""
    batch = _batch.get()
    if batch is None:
        sql.write_together(*statements)
        return
    batch.writes.extend(statement for statement in statements if statement)


def record_events(events: list[dict[str, Any]]) -> list[Event]:
    """Several events (each with :func:`record_event`'s arguments) written in one statement, in
    order; their reactions run after all are written, in the same order. Inside
    :func:`events_batched` they are written when the block ends (their ids are set then)."""
    if not transaction.get_connection().in_atomic_block:
        raise OutsideTransaction("record_event must be called inside the service's transaction")
    if not events:
        return []
    request_id = current_request_id()
    request_id = "" if request_id == "-" else request_id
    now = timezone.now()
    rows = []
    for spec in events:
        actor = spec.get("actor")
        rows.append(
            sql.new_row(
                Event,
                type=spec["type"],
                aggregate_type=spec["aggregate_type"],
                aggregate_id=str(spec["aggregate_id"]),
                payload=_jsonable(spec["payload"]),
                payload_version=spec.get("payload_version", 1),
                occurred_at=now,
                actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
                request_id=request_id,
            )
        )
    batch = _batch.get()
    if batch is not None:
        batch.events.extend(rows)
        return rows
    _write(rows)
    return rows


def _write(rows: list[Event], writes: list[list[tuple[str, list]]] = ()) -> None:
    if not rows:
        if writes:
            sql.write_together(*writes)
        return
    sql.insert_rows(Event, rows, also=writes)
    for event in rows:
        for reaction in _reactions.get(event.type, ()):
            reaction(event)
    _kick_relay_on_commit()


def _kick_relay_on_commit() -> None:
    """One relay kick per transaction, however many events it records: the callback is added
    unless one is already waiting (one added in a savepoint that rolled back is gone with it)."""
    connection = transaction.get_connection()
    if any(func is _kick_relay for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_kick_relay)


def _kick_relay() -> None:
    from mes.webhooks.relay import kick

    kick()
