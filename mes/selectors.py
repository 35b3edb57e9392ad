"""Reads of the platform tables."""

from django.db.models import QuerySet

from mes.models import Event
from mes.outbox import assign_sequences


def feed_events() -> QuerySet[Event]:
    """Events in feed order. Sequences are handed out first, so what a reader sees never gains
    an earlier entry later: a late-committing event gets a sequence after everything read."""
    assign_sequences()
    return Event.objects.filter(sequence__isnull=False).order_by("sequence")
