"""Giving committed events their feed sequence, in commit order.

Ids are handed out when a transaction *inserts* an event; transactions commit in another order.
A reader that paged by id could read id 11 while id 10's transaction was still open and never
see 10. So readers page by ``sequence``, which is assigned here, after commit, to committed
events only, under a lock: anything that commits later gets a later sequence.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Max

from mes.models import Event

SEQUENCER_LOCK = 7_424_201  # PostgreSQL advisory lock key; SQLite writers are serialised anyway


@transaction.atomic
def assign_sequences(*, limit: int = 10_000) -> int:
    """Number the committed, not yet numbered events after the highest sequence; returns how many."""
    pending = Event.objects.filter(sequence__isnull=True)
    if not pending.exists():
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCER_LOCK])
    start = (Event.objects.aggregate(top=Max("sequence"))["top"] or 0) + 1
    table = connection.ops.quote_name(Event._meta.db_table)
    # One statement numbers the batch in id order (both PostgreSQL and SQLite ≥ 3.33 have
    # UPDATE … FROM and window functions), instead of one UPDATE per event.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET sequence = numbered.position + %s
            FROM (
                SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS position
                FROM {table} WHERE sequence IS NULL ORDER BY id LIMIT %s
            ) AS numbered
            WHERE {table}.id = numbered.id
            """,
            [start, limit],
        )
        return cursor.rowcount
