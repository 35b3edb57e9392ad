"""Writing several rows of one model, each with its own values, in one statement.

Django's ``bulk_update`` builds a ``CASE WHEN pk = … THEN …`` expression per field and row, whose
compiling costs more CPU than the statement saves for the few rows a service changes. On
PostgreSQL :func:`update_rows` sends one ``UPDATE … FROM unnest(arrays)`` instead (a single row: a
plain ``UPDATE … WHERE id = %s``, whose prepared plan PostgreSQL can keep: with arrays it
plans for ten rows and so plans again for every run); elsewhere one parameterised UPDATE
executed for every row. Like ``bulk_update`` it calls no ``save()`` and no
signals, and sets ``auto_now`` fields only when the caller has set them on the objects
(:func:`update_rows_touched` stamps ``updated_at`` itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from django.db import connections, router
from django.db.models import Model
from django.utils import timezone

from mes.sql import array_param
from mes.sql import cursor as statement_cursor


def update_rows(model: type[Model], objects: Sequence[Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of ``objects`` (saved rows of ``model``) as they are on the objects."""
    statements = update_statements(model, objects, fields)
    if not statements:
        return
    using = router.db_for_write(model)
    with statement_cursor(connections[using]) as cursor:
        if len(statements) > 1:  # off PostgreSQL: the same UPDATE for every row
            cursor.executemany(statements[0][0], [params for _, params in statements])
        else:
            cursor.execute(*statements[0])


def update_statements(model: type[Model], objects: Sequence[Model], fields: Sequence[str]) -> list[tuple[str, list]]:
    """The statements :func:`update_rows` runs, to run them or send them with other writes
    (``mes.sql.write_together``): one on PostgreSQL, one a row elsewhere."""
    objects = list(objects)
    if not objects:
        return []
    connection = connections[router.db_for_write(model)]
    by_row = connection.vendor != "postgresql" or len(objects) == 1
    sql, pk, columns = _update_sql(connection.alias, model, tuple(fields), by_row)
    if by_row:
        return [(sql, [f.get_db_prep_save(getattr(o, f.attname), connection) for f in columns] + [o.pk]) for o in objects]
    params = [array_param([pk.get_db_prep_value(o.pk, connection) for o in objects])]
    for field in columns:
        params.append(array_param([field.get_db_prep_save(getattr(o, field.attname), connection) for o in objects]))
    return [(sql, params)]


@lru_cache(maxsize=None)
def _update_sql(alias: str, model: type[Model], fields: tuple[str, ...], by_row: bool) -> tuple:
    """The UPDATE of ``fields``, the primary key and the fields: of one row by its key
    (``by_row``), else of any number of rows from arrays (PostgreSQL; the same text for any number)."""
    connection = connections[alias]
    meta = model._meta
    pk = meta.pk
    columns = tuple(meta.get_field(name) for name in fields)
    quote = connection.ops.quote_name
    if by_row:
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in columns)
        return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s", pk, columns
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    arrays = ", ".join(f"%s::{f.cast_db_type(connection) or f.db_type(connection)}[]" for f in [pk, *columns])
    names = ", ".join(quote(f.column) for f in [pk, *columns])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {sets} FROM unnest({arrays}) AS v({names}) "
        f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    return sql, pk, columns


def update_rows_touched(model: type[Model], objects: Sequence[Model], fields: Sequence[str]) -> None:
    """:func:`update_rows`, with the model's ``updated_at`` (when it has one) set to now."""
    fields = list(fields)
    if any(f.name == "updated_at" for f in model._meta.concrete_fields) and "updated_at" not in fields:
        now = timezone.now()
        for obj in objects:
            obj.updated_at = now
        fields.append("updated_at")
    update_rows(model, objects, fields)
