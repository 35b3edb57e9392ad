"""Trace backward (what went into X) and forward (where did Y go) through the genealogy.

A trace tree is two statements: one recursive walk (``WITH RECURSIVE``, the same SQL on SQLite
and PostgreSQL; it may start from a code, so the lookup costs no extra round trip) over one of
the two covering indexes of ``GenealogyLink``, then one query for the nodes it reached (serials,
lots, items, where the lots are in stock).

The walk is kept apart from the node details on purpose. PostgreSQL guesses a recursive CTE
returns hundreds of times the rows it does; joined in the same statement to serials, lots, items
and locations, that guess priced the plan over ``jit_above_cost`` and JIT compilation took ~60 ms
of a query that runs in under 2 ms (and planning the six-way join took longer than running it).
Alone, the walk is priced low and the details are plain key lookups. The recall queries, which
walk hundreds of thousands of nodes, run with ``SET LOCAL jit = off`` and more ``work_mem``.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, transaction

from inventory.models import (
    GenealogyLink,
    Item,
    Location,
    Lot,
    SerialNumber,
    StockBalance,
)
from inventory.models.genealogy import node_key
from mes.errors import InvalidInput, NotFound
from mes.quantities import quantize

MAX_DEPTH = 50
LINK_TABLE = GenealogyLink._meta.db_table
TABLES = {
    "links": LINK_TABLE,
    "serials": SerialNumber._meta.db_table,
    "lots": Lot._meta.db_table,
    "items": Item._meta.db_table,
    "locations": Location._meta.db_table,
    "balances": StockBalance._meta.db_table,
}
RECALL_WORK_MEM = "64MB"
DIRECTIONS = {"backward": ("produced_key", "consumed_key"), "forward": ("consumed_key", "produced_key")}

# {a}: the key of the node we stand on, {b}: the key of the next node in this direction.
# {roots}: the start, by key or by code (a lookup in the same round trip); its rows come first.
_TREE_SQL = """
WITH RECURSIVE roots(node_key) AS (
    {roots}
),
tree(link_id, parent_key, node_key, depth, quantity, operation_id, work_order_id) AS (
    SELECT g.id, g.{a}, g.{b}, 1, g.quantity, g.operation_id, g.work_order_id
    FROM roots r JOIN {links} g ON g.{a} = r.node_key
  UNION ALL
    SELECT g.id, g.{a}, g.{b}, t.depth + 1, g.quantity, g.operation_id, g.work_order_id
    FROM tree t JOIN {links} g ON g.{a} = t.node_key
    WHERE t.depth < %s
)
SELECT NULL, NULL, node_key, 0, NULL, NULL, NULL FROM roots
UNION ALL
SELECT link_id, parent_key, node_key, depth, quantity, operation_id, work_order_id FROM tree
ORDER BY 4, 1
"""
ROOT_BY_KEY = "SELECT CAST(%s AS BIGINT)"
ROOT_BY_CODE = "SELECT {sign}n.id FROM {table} n WHERE n.code = %s{item}"

# The nodes of a tree: serials, lots, and where the lots are in stock, in one statement.
_DETAIL_SQL = """
SELECT 'serial', s.id, s.code, s.status, NULL, sl.code, s.current_location_id, loc.code, i.id, i.code, i.name
FROM {serials} s JOIN {items} i ON i.id = s.item_id
LEFT JOIN {lots} sl ON sl.id = s.lot_id
LEFT JOIN {locations} loc ON loc.id = s.current_location_id
WHERE s.id IN ({serial_ids})
UNION ALL
SELECT 'lot', l.id, l.code, l.status, l.expires_on, NULL, NULL, NULL, i.id, i.code, i.name
FROM {lots} l JOIN {items} i ON i.id = l.item_id
WHERE l.id IN ({lot_ids})
UNION ALL
SELECT 'place', b.lot_id, NULL, NULL, NULL, NULL, b.location_id, loc.code, NULL, NULL, NULL
FROM {balances} b JOIN {locations} loc ON loc.id = b.location_id
WHERE b.lot_id IN ({lot_ids}) AND b.quantity > 0
"""
DETAIL_CHUNK = 5000

# The forward walk keeps each node's parent; the leaves (end products) are the nodes that are
# nobody's parent: one hash anti-join over the walk instead of an index probe per node.
FORWARD_WALK = """
WITH RECURSIVE down(node_key, parent_key, depth) AS (
    SELECT CAST(%s AS BIGINT), CAST(NULL AS BIGINT), 0
  UNION ALL
    SELECT g.produced_key, d.node_key, d.depth + 1
    FROM down d JOIN {links} g ON g.consumed_key = d.node_key
    WHERE d.depth < %s
),
leaves AS (
    SELECT DISTINCT d.node_key FROM down d
    WHERE NOT EXISTS (SELECT 1 FROM down p WHERE p.parent_key = d.node_key)
)
"""

_LEAVES_SQL = FORWARD_WALK + "SELECT node_key FROM leaves"

_DESCENDANTS_SQL = """
WITH RECURSIVE down(node_key, depth) AS (
    SELECT g.produced_key, 1 FROM {links} g WHERE g.consumed_key IN ({marks})
  UNION
    SELECT g.produced_key, d.depth + 1
    FROM down d JOIN {links} g ON g.consumed_key = d.node_key
    WHERE d.depth < %s
)
SELECT DISTINCT node_key FROM down
"""


def tree_sql(direction: str, roots: str = ROOT_BY_KEY) -> str:
    a, b = DIRECTIONS[direction]
    return _TREE_SQL.format(a=a, b=b, roots=roots, **TABLES)


def leaves_sql() -> str:
    return _LEAVES_SQL.format(**TABLES)


@contextmanager
def recursive_query_cursor(*, work_mem: str | None = None):
    """A cursor for a recursive query: on PostgreSQL in a transaction with JIT off (and, for the
    big walks of a recall, more memory for their hash tables than the default 4 MB)."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            if work_mem:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
            yield cursor
    else:
        with connection.cursor() as cursor:
            yield cursor


def _start_key(*, lot=None, serial=None) -> int:
    if (lot is None) == (serial is None):
        raise ValueError("trace a lot or a serial")
    if serial is not None:
        return node_key(serial_id=getattr(serial, "pk", serial))
    return node_key(lot_id=getattr(lot, "pk", lot))


def _marks(values: list) -> str:
    return ", ".join(["%s"] * len(values)) or "NULL"


def describe_nodes(keys) -> dict[int, dict]:
    """Lot/serial, item, status and locations of genealogy node keys: one query per 5,000 nodes."""
    keys = sorted(set(keys))
    nodes: dict[int, dict] = {}
    places: list[tuple[int, int, str]] = []
    for start in range(0, len(keys), DETAIL_CHUNK):
        chunk = keys[start : start + DETAIL_CHUNK]
        serial_ids = [-k for k in chunk if k < 0]
        lot_ids = [k for k in chunk if k > 0]
        sql = _DETAIL_SQL.format(serial_ids=_marks(serial_ids), lot_ids=_marks(lot_ids), **TABLES)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*serial_ids, *lot_ids, *lot_ids])
            rows = cursor.fetchall()
        for kind, pk, code, status, expires_on, lot_code, location_id, location_code, item_id, item_code, item_name in rows:
            if kind == "place":
                places.append((pk, location_id, location_code))
                continue
            node = {"type": kind, "id": pk, "code": code, "item": {"id": item_id, "code": item_code, "name": item_name}, "status": status}
            if kind == "serial":
                node["lot_code"] = lot_code
                node["locations"] = [{"id": location_id, "code": location_code}] if location_id else []
                nodes[-pk] = node
            else:
                node["expires_on"] = expires_on.isoformat() if hasattr(expires_on, "isoformat") else expires_on
                node["locations"] = []
                nodes[pk] = node
    for lot_id, location_id, location_code in sorted(places, key=lambda p: p[2]):
        nodes[lot_id]["locations"].append({"id": location_id, "code": location_code})
    return nodes


def _walk(sql: str, params: list) -> tuple[list[int], list[tuple]]:
    """Run a tree statement: the start keys (roots) and the link rows below them."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    roots = [row[2] for row in rows if row[0] is None]
    return roots, [row for row in rows if row[0] is not None]


def _tree(start: int, *, direction: str, max_depth: int, rows: list[tuple] | None = None) -> dict:
    if rows is None:
        _roots, rows = _walk(tree_sql(direction), [start, max_depth])
    children: dict[int, list[tuple[int, dict]]] = defaultdict(list)
    seen: set[int] = set()
    for link_id, parent, key, _depth, quantity, operation_id, work_order_id in rows:
        if link_id in seen:  # a node reached along two paths brings its links twice
            continue
        seen.add(link_id)
        children[parent].append(
            (
                key,
                {
                    "quantity": quantize(Decimal(str(quantity))),
                    "operation_id": operation_id,
                    "work_order_id": work_order_id,
                },
            )
        )
    reached = {key for group in children.values() for key, _ in group}
    nodes = describe_nodes(reached | {start})

    def unknown(key: int) -> dict:
        return {"type": "serial" if key < 0 else "lot", "id": abs(key), "code": None, "item": None, "status": None, "locations": []}

    def build(key: int, path: frozenset[int], depth: int) -> list[dict]:
        out = []
        for child_key, link in children.get(key, ()):
            if child_key in path:
                continue  # a cycle in bad data is never followed twice
            below = build(child_key, path | {child_key}, depth + 1) if depth < max_depth else []
            out.append({**(nodes.get(child_key) or unknown(child_key)), **link, "depth": depth, "children": below})
        return out

    root = {**(nodes.get(start) or unknown(start)), "depth": 0}
    root["children"] = build(start, frozenset({start}), 1)
    root["node_count"] = len(reached)
    root["link_count"] = len(seen)
    return root


def trace_backward(*, serial=None, lot=None, max_depth: int = MAX_DEPTH) -> dict:
    """The tree of everything that went into a serial or lot, to the last level."""
    return _tree(_start_key(lot=lot, serial=serial), direction="backward", max_depth=max_depth)


def trace_forward(*, serial=None, lot=None, max_depth: int = MAX_DEPTH) -> dict:
    """The tree of everything a serial or lot went into, to the last level."""
    return _tree(_start_key(lot=lot, serial=serial), direction="forward", max_depth=max_depth)


def trace_by_code(
    *, direction: str, serial_code: str | None = None, lot_code: str | None = None, item=None, max_depth: int = MAX_DEPTH
) -> dict:
    """The trace tree of a serial or lot named by its code (and item, when the code is not unique),
    found and walked in one statement: what a scanner or the API asks."""
    if bool(serial_code) == bool(lot_code):
        raise InvalidInput("Give either a lot (with its item) or a serial number.", field="lot", code="lot_or_serial")
    field, code, table, sign = ("serial", serial_code, TABLES["serials"], "-") if serial_code else ("lot", lot_code, TABLES["lots"], "")
    item_id = getattr(item, "pk", item)
    roots_sql = ROOT_BY_CODE.format(sign=sign, table=table, item=" AND n.item_id = %s" if item_id is not None else "")
    params = [code, *([item_id] if item_id is not None else []), max_depth]
    roots, rows = _walk(tree_sql(direction, roots_sql), params)
    if not roots:
        raise NotFound(f"No {field} {code}" + (f" of item {item_id}." if item_id is not None else "."), extra={"field": field})
    if len(roots) > 1:
        raise InvalidInput(f"{code} names a {field} of several items: give the item too.", field="item", code="ambiguous_code")
    return _tree(roots[0], direction=direction, max_depth=max_depth, rows=rows)


def forward_leaf_keys(*, serial=None, lot=None, max_depth: int = MAX_DEPTH) -> list[int]:
    """Node keys of the end products a lot or serial went into (itself when it went nowhere)."""
    start = _start_key(lot=lot, serial=serial)
    with recursive_query_cursor(work_mem=RECALL_WORK_MEM) as cursor:
        cursor.execute(leaves_sql(), [start, max_depth])
        return sorted(row[0] for row in cursor.fetchall())


def descendant_keys(keys, *, max_depth: int = MAX_DEPTH) -> set[int]:
    """Every node reachable forward from any of ``keys`` (one query)."""
    keys = list(keys)
    if not keys:
        return set()
    sql = _DESCENDANTS_SQL.format(marks=", ".join(["%s"] * len(keys)), **TABLES)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*keys, max_depth])
        return {row[0] for row in cursor.fetchall()}
