"""Reads of the platform tables."""

from django.db import connection
from django.db.models import QuerySet

from mes.models import Event

# Events of transactions that may still be running are held back: a transaction that started
# earlier can commit an event with a lower sequence after a later one was already read.
# A transaction's own events are visible to itself.
_FINISHED_TRANSACTIONS_ONLY = (
    "(txid IS NULL OR txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    " OR txid = pg_current_xact_id_if_assigned()::text::bigint)"
)


def committed_events() -> QuerySet[Event]:
    """Events safe to hand to a reader in sequence order: nothing earlier can still appear."""
    events = Event.objects.all()
    if connection.vendor == "postgresql":
        events = events.extra(where=[_FINISHED_TRANSACTIONS_ONLY])
    return events
