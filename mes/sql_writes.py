"""The writing half of :mod:`mes.sql` (import these from there): new rows built for an insert,
multi-row inserts that set the rows' keys, and writes that read nothing back sent as one
statement on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache

from django.db import connections, models, router
from django.db.models import Model
from django.db.models.base import ModelState
from psycopg.types.json import Json, Jsonb

from mes.sql import _connection, _plain_init, _run, cursor


@lru_cache(maxsize=None)
def _new_row_fields(model: type[Model]) -> tuple:
    return tuple(
        (field.name, field.attname, field.is_relation, field)  # a concrete relation: a foreign key or one-to-one
        for field in model._meta.concrete_fields
        if field.column is not None and not field.generated
    )


def new_row(model: type[Model], **values) -> Model:
    """``model(**values)`` for a row about to be inserted (:func:`insert_rows`), built as
    ``Model.__init__`` builds it — fields not given get their defaults, a related object given
    for a foreign key sets its id and is cached on the row — without the general keyword
    handling that makes ``__init__`` the costliest step of building a row. Models with an
    ``__init__`` of their own or init signals listened to are built by ``__init__``."""
    if not _plain_init(model):
        return model(**values)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    attributes = obj.__dict__
    for name, attname, relation, field in _new_row_fields(model):
        if relation and name in values:
            related = values.pop(name)
            if related is None:
                attributes[attname] = None
            else:
                if state.db is None:
                    state.db = router.db_for_write(model, instance=related)
                attributes[attname] = getattr(related, field.target_field.attname)
                if not field.remote_field.multiple:  # one-to-one: the related row knows this one too
                    field.remote_field.set_cached_value(related, obj)
            state.fields_cache[field.cache_name] = related
        elif attname in values:
            attributes[attname] = values.pop(attname)
        else:
            attributes[attname] = field.get_default()
    if values:
        raise TypeError(f"{model.__name__}() got unexpected keyword arguments: {', '.join(sorted(values))}")
    return obj


VALUES_UP_TO = 50  # parameters

# What PostgreSQL's driver takes as it is, by the kind of column: a value of exactly such a type
# needs no preparing by its field (whose preparing would return it unchanged).
_AS_IS = {
    "CharField": (str,), "TextField": (str,), "SlugField": (str,),
    "IntegerField": (int,), "BigIntegerField": (int,), "SmallIntegerField": (int,), "PositiveIntegerField": (int,),
    "PositiveSmallIntegerField": (int,), "PositiveBigIntegerField": (int,), "AutoField": (int,), "BigAutoField": (int,),
    "DecimalField": (Decimal,), "BooleanField": (bool,), "DateField": (dt.date,), "DateTimeField": (dt.datetime,),
}
_BASES = {name: getattr(models, name) for name in _AS_IS}


@lru_cache(maxsize=None)
def _preparing(alias: str, model: type[Model]) -> tuple:
    """(field, types taken as they are or ``()``) for every concrete field but the auto primary
    key. Only on PostgreSQL, and only for fields that prepare values as Django's own class does."""
    meta = model._meta
    out = []
    for field in meta.concrete_fields:
        if field is meta.pk:
            continue
        target = field.target_field if field.many_to_one else field
        base = _BASES.get(target.get_internal_type())
        plain = (
            connections[alias].vendor == "postgresql"
            and base is not None
            and isinstance(target, base)
            and all(getattr(type(target), m) is getattr(base, m) for m in ("get_prep_value", "get_db_prep_value", "get_db_prep_save"))
            and (target is field or type(field).get_db_prep_save is models.ForeignKey.get_db_prep_save)
        )
        out.append((field, _AS_IS[target.get_internal_type()] if plain else ()))
    return tuple(out)


def _array_element(value) -> str:
    kind = type(value)
    if kind is int or kind is Decimal:
        return str(value)
    if kind is str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if kind is bool:
        return "t" if value else "f"
    if kind is dt.datetime or kind is dt.date:
        return '"' + value.isoformat() + '"'
    if (kind is Jsonb or kind is Json) and value.dumps is not None:  # a JSONField's value, with its encoder
        text = value.dumps(value.obj)
        return _array_element(text if isinstance(text, str) else bytes(text).decode())
    raise TypeError(kind)


def array_param(values: list):
    """``values`` as PostgreSQL's text form of an array, for a parameter the statement casts
    (``%s::integer[]``): psycopg adapts arrays element by element in Python code, a string in C.
    Values of other types than int, Decimal, str, bool, date, datetime, None and JSON (psycopg's
    ``Json``/``Jsonb`` with their encoder, as JSONFields give them): the list itself."""
    try:
        return "{" + ",".join("NULL" if value is None else _array_element(value) for value in values) + "}"
    except TypeError:
        return values


def _prepared(field, types, value, connection):
    if value is None or (type(value) in types and (types[0] is not dt.datetime or value.tzinfo is not None)):
        return value
    return field.get_db_prep_save(value, connection)


@lru_cache(maxsize=None)
def _insert_sql(
    alias: str, model: type[Model], names: tuple[str, ...], rows: int, skip: tuple[str, ...] = (), returning: bool = True
) -> str:
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    columns = ", ".join(quote(f.column) for f in fields)
    if rows == 0:  # PostgreSQL, any number of rows
        arrays = ", ".join(f"%s::{f.cast_db_type(connection) or f.db_type(connection)}[]" for f in fields)
        source = f"SELECT * FROM unnest({arrays})"
    else:
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        source = "VALUES " + ", ".join([one] * rows)
    returned = quote(meta.pk.column)
    if skip:
        keys = ", ".join(quote(meta.get_field(name).column) for name in skip)
        source += f" ON CONFLICT ({keys}) DO NOTHING"
        returned += ", " + keys
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) {source}" + (f" RETURNING {returned}" if returning else "")


def _insert(connection, model: type[Model], objects: list[Model], *, arrays: bool, skip: tuple[str, ...] = (), returning: bool = True):
    """The INSERT of ``objects`` and its parameters (``auto_now`` fields stamped first): one
    array a column (PostgreSQL), or a row of values an object."""
    preparing = _preparing(connection.alias, model)
    fields = [field for field, _ in preparing]
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj in objects:
        for field in stamped:
            field.pre_save(obj, add=True)
    names = tuple(f.name for f in fields)
    sql = _insert_sql(connection.alias, model, names, 0 if arrays else len(objects), skip, returning)
    if arrays:
        params = [array_param([_prepared(f, types, getattr(obj, f.attname), connection) for obj in objects]) for f, types in preparing]
    else:
        params = [_prepared(f, types, getattr(obj, f.attname), connection) for obj in objects for f, types in preparing]
    return sql, params


def insert_rows(
    model: type[Model], objects: Sequence[Model], *, skip_conflicts_on: Sequence[str] = (), also: Sequence[list] = ()
) -> list[Model]:
    """Insert ``objects`` (new rows of ``model``, every concrete field but the auto primary key
    as it is on them; ``auto_now``/``auto_now_add`` stamped like ``bulk_create``) in one
    statement, and set their primary keys. No ``save()``, no signals.

    ``skip_conflicts_on`` (the fields of a unique constraint): objects whose key is taken are not
    inserted (``ON CONFLICT DO NOTHING``; a key being inserted by a transaction still open is
    waited for) and keep no primary key; the objects inserted are returned.

    ``also``: other writes that read nothing back (as for :func:`write_together`), sent in the
    same statement on PostgreSQL (``WITH`` queries before the insert), before it elsewhere; alone
    when there is no object."""
    objects = list(objects)
    if not objects:
        write_together(*also)
        return objects
    connection = _connection(model, write=True)
    # PostgreSQL takes many rows as one array a column (one statement text whatever their
    # number); a few rows as plain values, which cost less to send than short arrays, as long as
    # psycopg keeps the statement's parsing (up to 50 parameters, the other writes' included).
    together = [statement for group in also for statement in group]
    postgres = connection.vendor == "postgresql"
    columns = len(_preparing(connection.alias, model))
    arrays = postgres and len(objects) * columns + sum(len(params) for _, params in together) > VALUES_UP_TO
    skip = tuple(skip_conflicts_on)
    sql, params = _insert(connection, model, objects, arrays=arrays, skip=skip)
    if together and postgres:
        sql = "WITH " + ", ".join(f"w{n} AS ({text})" for n, (text, _) in enumerate(together)) + " " + sql
        params = [param for _, values in together for param in values] + params
    elif together:
        with cursor(connection) as cur:
            _one_by_one(cur, together)
    returned = _run(connection, sql, params, rows=True)
    if skip:
        attnames = [model._meta.get_field(name).attname for name in skip]
        by_key = {tuple(getattr(obj, a) for a in attnames): obj for obj in objects}
        objects = []
        for pk, *key in returned:
            objects.append(by_key[tuple(key)])
            objects[-1].pk = pk
    else:
        for obj, (pk,) in zip(objects, returned, strict=True):
            obj.pk = pk
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def insert_statement(model: type[Model], objects: Sequence[Model]) -> list[tuple[str, list]]:
    """The insert of :func:`insert_rows`, returning nothing (the objects get no primary key), to
    send with other writes (:func:`write_together`); on PostgreSQL one array a column, so the
    statement has few parameters whatever the number of rows."""
    objects = list(objects)
    if not objects:
        return []
    connection = _connection(model, write=True)
    sql, params = _insert(connection, model, objects, arrays=connection.vendor == "postgresql", returning=False)
    return [(sql, params)]


def write_together(*statements: list[tuple[str, list]]) -> None:
    """Writes that need nothing back, each a list of ``(sql, params)`` (:func:`insert_statement`,
    ``mes.rows.update_statements``), sent as one statement on PostgreSQL — every one but the last
    a data-modifying ``WITH`` query — and one after another elsewhere. They share one snapshot:
    none may need to see the rows another writes (foreign keys are checked at commit)."""
    flat = [statement for group in statements for statement in group]
    if not flat:
        return
    connection = _connection()
    if len(flat) == 1:
        _run(connection, *flat[0], rows=False)
    elif connection.vendor != "postgresql":
        with cursor(connection) as cur:
            _one_by_one(cur, flat)
    else:
        text = "WITH " + ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(flat[:-1])) + " " + flat[-1][0]
        _run(connection, text, [param for _, params in flat for param in params], rows=False)


def _one_by_one(cur, statements: list[tuple[str, list]]) -> None:
    """Run statements in order; a run of the same statement (an update a row, as off
    PostgreSQL) as one ``executemany``."""
    start = 0
    while start < len(statements):
        end = start + 1
        while end < len(statements) and statements[end][0] == statements[start][0]:
            end += 1
        if end - start == 1:
            cur.execute(*statements[start])
        else:
            cur.executemany(statements[start][0], [params for _, params in statements[start:end]])
        start = end
