"""Statements of the busiest paths written as SQL once, and read into model instances.

The ORM builds and compiles a queryset into SQL on every call: for the dozens of statements of
one production report that costs more CPU than the database spends running them. The services on
such a path write their statements as SQL (module constants or short builders, the same text on
every call, so PostgreSQL can keep them prepared) and use these helpers to read the rows into
model instances or write many rows in one statement. The SQL they write is portable between
PostgreSQL and SQLite: ``IN`` lists from :func:`in_list`, row locks from :func:`for_update`.

* :func:`select_columns` — the column list of a model's fields under a table alias.
* :func:`fetch_models` — rows of one or more models (joined in one statement) as instances,
  with the database's converters applied, related ones attached as if by ``select_related``;
  :func:`fetch_rows` every part of each row (plain columns among them: :class:`Values`);
  :func:`fetch_together` several such reads in one statement.
* :func:`fetch`, :func:`execute` — plain rows (tuples), or a statement's row count.
* :func:`insert_rows` — new rows of one model in one statement, primary keys set on them
  (optionally with other writes in the same statement).
* :func:`insert_statement`, :func:`write_together` — writes that read nothing back, sent as one
  statement on PostgreSQL.
* :func:`new_row` — a row to insert, built as ``Model.__init__`` builds it, faster.
* :func:`array_param` — a list as PostgreSQL's text form of an array, for a cast parameter.
* :func:`cursor` — the connection's kept cursor that all of them run on.

The writing helpers live in :mod:`mes.sql_writes` and are imported from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connections, router
from django.dispatch import receiver
from django.db.models import Model, signals
from django.db.models.base import ModelState


def _alias(model: type[Model] | None = None, write: bool = False) -> str:
    if model is None or not _routed():
        return "default"
    return (router.db_for_write(model) if write else router.db_for_read(model)) or "default"


def _connection(model: type[Model] | None = None, write: bool = False):
    return connections[_alias(model, write)]


_settings = {}


def _routed() -> bool:
    """Whether the project routes models to databases (``DATABASE_ROUTERS``), read once."""
    if "routers" not in _settings:
        _settings["routers"] = bool(settings.DATABASE_ROUTERS)
    return _settings["routers"]


def _logging(connection) -> bool:
    """``connection.queries_logged`` (``settings.DEBUG`` read once, not on every statement)."""
    if connection.force_debug_cursor:
        return True
    if "debug" not in _settings:
        _settings["debug"] = settings.DEBUG
    return _settings["debug"]


@receiver(setting_changed)
def _forget_settings(*, setting, **kwargs):
    if setting in ("DEBUG", "DATABASE_ROUTERS"):
        _settings.clear()


def _kept_cursor(connection):
    kept = getattr(connection, "_mes_kept_cursor", None)
    if kept is None or kept[0] is not connection.connection:  # none yet, or the connection was replaced
        wrapper = connection.cursor()  # connects first when needed
        kept = connection._mes_kept_cursor = (connection.connection, wrapper)
    return kept[1]


@contextmanager
def cursor(connection=None):
    """A cursor to run a statement on: the connection's own kept cursor (a new cursor for every
    statement costs more CPU in Django's and psycopg's wrappers than a short statement itself), or,
    while statements are being captured (tests, ``DEBUG``), a new one as ``connection.cursor()``
    gives, so every statement is seen."""
    connection = connection or _connection()
    if _logging(connection):
        with connection.cursor() as fresh:
            yield fresh
        return
    yield _kept_cursor(connection)


def _run(connection, sql: str, params: Sequence, rows: bool):
    """Run one statement on the kept cursor; its rows (``rows``) or its row count. Straight on
    psycopg's cursor, with Django's checks and error translation, unless statements are being
    captured or wrapped (``connection.execute_wrapper``): then through Django's cursor."""
    if connection.execute_wrappers or _logging(connection):
        with cursor(connection) as cur:
            cur.execute(sql, params)
            return cur.fetchall() if rows else cur.rowcount
    cur = _kept_cursor(connection).cursor
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cur.execute(sql, params)
        return cur.fetchall() if rows else cur.rowcount


def in_list(values: Sequence) -> str:
    """``%s, %s, …`` for the values of an ``IN (…)`` (at least one placeholder: ``IN (NULL)``
    matches nothing)."""
    return ", ".join(["%s"] * len(values)) if values else "NULL"


def for_update(*tables: str, no_key: bool = False) -> str:
    """``FOR [NO KEY] UPDATE OF …`` where the database has row locks (PostgreSQL); SQLite locks
    the whole database for a writing transaction, so there it is empty."""
    connection = _connection()
    if not connection.features.has_select_for_update:
        return ""
    clause = "FOR NO KEY UPDATE" if no_key and connection.features.has_select_for_no_key_update else "FOR UPDATE"
    if tables and connection.features.has_select_for_update_of:
        clause += " OF " + ", ".join(connection.ops.quote_name(t) for t in tables)
    return clause


@lru_cache(maxsize=None)
def _fields(model: type[Model], names: tuple[str, ...] | None):
    concrete = model._meta.concrete_fields
    if names is None:
        return tuple(concrete)
    by_name = {f.name: f for f in concrete} | {f.attname: f for f in concrete}
    wanted = {by_name[name] for name in names}
    # In the model's own order, whatever order they were named in: ``Model.from_db`` places
    # values by that order when it gets only some of the fields.
    return tuple(f for f in concrete if f in wanted)


def select_columns(model: type[Model], alias: str, fields: Iterable[str] | None = None) -> str:
    """``alias."col", …`` for ``fields`` (names or attnames; every concrete field by default),
    in the model's field order, which is what :func:`fetch_models` expects."""
    return _select_columns(_alias(model), model, alias, tuple(fields) if fields is not None else None)


@lru_cache(maxsize=None)
def _select_columns(connection_alias: str, model: type[Model], alias: str, fields: tuple[str, ...] | None) -> str:
    quote = connections[connection_alias].ops.quote_name
    return ", ".join(f"{quote(alias)}.{quote(f.column)}" for f in _fields(model, fields))


@lru_cache(maxsize=None)
def _converters(alias: str, model: type[Model], names: tuple[str, ...] | None):
    """(position, column, converters) of the fields whose values the database's converters change."""
    connection = connections[alias]
    out = []
    for position, field in enumerate(_fields(model, names)):
        col = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if converters:
            out.append((position, col, tuple(converters)))
    return tuple(out)


@lru_cache(maxsize=None)
def _attnames(model: type[Model], names: tuple[str, ...] | None) -> tuple[str, ...]:
    return tuple(f.attname for f in _fields(model, names))


@lru_cache(maxsize=None)
def _plain_init(model: type[Model]) -> bool:
    """Whether an instance read from the database may be built by setting its attributes, as
    ``Model.__init__`` would (no ``__init__`` of its own, nobody listening to its init signals)."""
    return model.__init__ is Model.__init__ and not (
        signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)
    )


@lru_cache(maxsize=None)
def _reader(alias: str, model: type[Model], names: tuple[str, ...] | None) -> tuple:
    """What :func:`_build` needs of a model, looked up once: attnames, converters, plain init."""
    return _attnames(model, names), _converters(alias, model, names), _plain_init(model)


def _build(connection, model: type[Model], names: tuple[str, ...] | None, values: Sequence) -> Model:
    attnames, converting, plain = _reader(connection.alias, model, names)
    if len(values) != len(attnames):
        raise ValueError(f"{model.__name__}: {len(values)} values for {len(attnames)} fields")
    if converting:
        values = list(values)
        for position, col, converters in converting:
            value = values[position]
            for converter in converters:
                value = converter(value, col, connection)
            values[position] = value
    if not plain:
        return model.from_db(connection.alias, list(attnames), list(values))
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding, state.db = False, connection.alias
    obj.__dict__.update(zip(attnames, values))
    return obj


class Part:
    """One model of a :func:`fetch_models` row: ``model`` with ``fields`` (all concrete fields by
    default), attached to the part named ``parent`` (an earlier part's ``name``) as its ``relation``."""

    def __init__(self, model: type[Model], *, name: str = "", fields: Iterable[str] | None = None, parent: str = "", relation: str = ""):
        self.model = model
        self.name = name or model._meta.model_name
        self.fields = tuple(fields) if fields is not None else None
        self.width = len(_fields(model, self.fields))
        self.parent = parent
        self.relation = relation


class Values:
    """``width`` plain columns of a :func:`fetch_rows` row, between or after the models' columns:
    given as a tuple as they come (no model, never ``None``)."""

    model = None
    fields = None
    parent = relation = ""

    def __init__(self, width: int, *, name: str = "values"):
        self.width = width
        self.name = name


def fetch_models(sql: str, params: Sequence, parts: Sequence[Part | type[Model]]) -> list[Model]:
    """Run ``sql`` (its select list: each part's :func:`select_columns`, in order) and return the
    first part's instances, the others attached to them (or a missing related row: ``None``
    where the columns are NULL)."""
    return [row[0] for row in fetch_rows(sql, params, parts)]


def fetch_rows(
    sql: str, params: Sequence, parts: Sequence[Part | Values | type[Model]], *, repeated_shared: bool = False
) -> list[tuple[Model | tuple | None, ...]]:
    """:func:`fetch_models`, every part of each row: a part attached to a parent, or any part but
    the first, is ``None`` where its first column (its primary key) is NULL (an outer join);
    :class:`Values` parts are tuples.

    ``repeated_shared``: a part whose columns are the same as in the row before (a row joined to
    several others) is the same instance as there, not built again."""
    parts = _parts(parts)
    connection = _connection(parts[0].model)
    return _built(connection, _run(connection, sql, params, rows=True), parts, repeated_shared)


def fetch_together(*reads: tuple[str, Sequence, Sequence[Part | type[Model]]]) -> list[list[tuple[Model | None, ...]]]:
    """Several :func:`fetch_rows` reads, each ``(sql, params, parts)``, in one statement on
    PostgreSQL — each a ``WITH`` query, run in the order given, so the rows they lock are locked
    in that order — and one after another elsewhere. The rows of each read, in order."""
    connection = _connection()
    if connection.vendor != "postgresql" or len(reads) < 2:
        return [fetch_rows(sql, params, parts) for sql, params, parts in reads]
    parts = [_parts(read_parts) for _, _, read_parts in reads]
    nulls = [", ".join(_nulls(connection.alias, p.model, p.fields) for p in read_parts) for read_parts in parts]
    branches = [
        f"SELECT {n}, " + ", ".join(f"q{n}.*" if m == n else nulls[m] for m in range(len(reads))) + f" FROM q{n}"
        for n in range(len(reads))
    ]
    text = "WITH " + ", ".join(f"q{n} AS ({sql})" for n, (sql, _, _) in enumerate(reads)) + " " + " UNION ALL ".join(branches)
    rows = _run(connection, text, [param for _, params, _ in reads for param in params], rows=True)
    widths = [sum(p.width for p in read_parts) for read_parts in parts]
    starts = [1 + sum(widths[:n]) for n in range(len(reads))]
    out = []
    for n, read_parts in enumerate(parts):
        mine = [row[starts[n] : starts[n] + widths[n]] for row in rows if row[0] == n]
        out.append(_built(connection, mine, read_parts, False))
    return out


@lru_cache(maxsize=None)
def _nulls(alias: str, model: type[Model], names: tuple[str, ...] | None) -> str:
    """``CAST(NULL AS type), …`` for the model's ``names`` fields: a read's columns in the rows
    of the others (:func:`fetch_together`)."""
    connection = connections[alias]
    return ", ".join(f"CAST(NULL AS {f.cast_db_type(connection) or f.db_type(connection)})" for f in _fields(model, names))


def _parts(parts: Sequence[Part | Values | type[Model]]) -> list[Part | Values]:
    return [p if isinstance(p, (Part, Values)) else Part(p) for p in parts]


def _built(connection, rows: list, parts: list[Part | Values], repeated_shared: bool) -> list[tuple[Model | tuple | None, ...]]:
    out = []
    before: dict[str, tuple] = {}
    for row in rows:
        built: dict[str, Model | None] = {}
        start = 0
        for index, part in enumerate(parts):
            values = row[start : start + part.width]
            start += part.width
            if repeated_shared and part.model is not None and before.get(part.name, (None,))[0] == values:
                built[part.name] = before[part.name][1]
            elif part.model is None:
                built[part.name] = tuple(values)
            elif index and values[0] is None:
                built[part.name] = None
            else:
                built[part.name] = _build(connection, part.model, part.fields, values)
            if repeated_shared:
                before[part.name] = (values, built[part.name])
            if part.parent and built[part.parent] is not None:
                parent = built[part.parent]  # the relation cached as select_related does
                parent._meta.get_field(part.relation).set_cached_value(parent, built[part.name])
        out.append(tuple(built[part.name] for part in parts))
    return out


def fetch(sql: str, params: Sequence = ()) -> list[tuple]:
    return _run(connections["default"], sql, params, rows=True)


def execute(sql: str, params: Sequence = ()) -> int:
    """Run a statement; the number of rows it changed."""
    return _run(connections["default"], sql, params, rows=False)


# The writing half (new rows, multi-row inserts, writes sent together), in its own module.
from mes.sql_writes import (  # noqa: E402  (it uses the cursor and row building above)
    VALUES_UP_TO,
    array_param,
    insert_rows,
    insert_statement,
    new_row,
    write_together,
)

__all__ = [
    "Part", "VALUES_UP_TO", "Values", "array_param", "cursor", "execute", "fetch", "fetch_models", "fetch_rows", "fetch_together",
    "for_update",
    "in_list", "insert_rows", "insert_statement", "new_row", "select_columns", "write_together",
]
