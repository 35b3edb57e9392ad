"""Trace backward (what went into X) and forward (where did Y go) through the genealogy.

Each trace is one recursive query (``WITH RECURSIVE``, the same SQL on SQLite and PostgreSQL)
over the two covering indexes of ``GenealogyLink``, followed by one query per kind of node
detail (lots, serials, items, locations). On PostgreSQL the recursive query runs with JIT off:
the planner's inflated row estimate for a recursive CTE otherwise switches on JIT compilation,
which costs more than the whole query.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager

from django.db import connection, transaction

from inventory.models import GenealogyLink, Item, Location, Lot, SerialNumber
from inventory.models.genealogy import node_key

MAX_DEPTH = 50
LINK_TABLE = GenealogyLink._meta.db_table

# {a}: the column of the node we stand on, {b}: the column of the next node in this direction.
_TREE_SQL = """
WITH RECURSIVE tree(link_id, parent_key, node_key, depth) AS (
    SELECT g.id, g.{a}, g.{b}, 1 FROM {table} g WHERE g.{a} = %s
  UNION ALL
    SELECT g.id, g.{a}, g.{b}, t.depth + 1
    FROM tree t JOIN {table} g ON g.{a} = t.node_key
    WHERE t.depth < %s
)
SELECT t.link_id, t.parent_key, t.node_key, t.depth, g.quantity, g.operation_id, g.work_order_id,
       g.document_type, g.document_id
FROM tree t JOIN {table} g ON g.id = t.link_id
ORDER BY t.depth, t.link_id
"""

_LEAVES_SQL = """
WITH RECURSIVE down(node_key, depth) AS (
    SELECT %s, 0
  UNION
    SELECT g.produced_key, d.depth + 1
    FROM down d JOIN {table} g ON g.consumed_key = d.node_key
    WHERE d.depth < %s
)
SELECT DISTINCT d.node_key FROM down d
WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE x.consumed_key = d.node_key)
"""

_DESCENDANTS_SQL = """
WITH RECURSIVE down(node_key, depth) AS (
    SELECT g.produced_key, 1 FROM {table} g WHERE g.consumed_key IN ({marks})
  UNION
    SELECT g.produced_key, d.depth + 1
    FROM down d JOIN {table} g ON g.consumed_key = d.node_key
    WHERE d.depth < %s
)
SELECT DISTINCT node_key FROM down
"""


@contextmanager
def _recursive_query_cursor():
    """A cursor for a recursive trace query; on PostgreSQL inside a transaction with JIT off."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
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


def _links(start: int, *, direction: str, max_depth: int) -> list[dict]:
    a, b = ("produced_key", "consumed_key") if direction == "backward" else ("consumed_key", "produced_key")
    sql = _TREE_SQL.format(a=a, b=b, table=LINK_TABLE)
    with _recursive_query_cursor() as cursor:
        cursor.execute(sql, [start, max_depth])
        rows = cursor.fetchall()
    seen: set[int] = set()
    links = []
    for link_id, parent, child, depth, quantity, operation_id, work_order_id, document_type, document_id in rows:
        if link_id in seen:
            continue
        seen.add(link_id)
        links.append(
            {
                "link": link_id,
                "parent": parent,
                "node": child,
                "depth": depth,
                "quantity": quantity,
                "operation_id": operation_id,
                "work_order_id": work_order_id,
                "document_type": document_type,
                "document_id": document_id,
            }
        )
    return links


def describe_nodes(keys) -> dict[int, dict]:
    """Lot/serial, item, status and location of genealogy node keys: at most four queries."""
    keys = set(keys)
    lot_ids = [k for k in keys if k > 0]
    serial_ids = [-k for k in keys if k < 0]
    nodes: dict[int, dict] = {}
    item_ids: set[int] = set()
    location_ids: set[int] = set()
    for row in Lot.objects.filter(pk__in=lot_ids).values("id", "code", "item_id", "status", "expires_on"):
        nodes[row["id"]] = {
            "type": "lot",
            "id": row["id"],
            "code": row["code"],
            "item_id": row["item_id"],
            "status": row["status"],
            "expires_on": row["expires_on"].isoformat() if row["expires_on"] else None,
            "location_ids": [],
        }
        item_ids.add(row["item_id"])
    for row in SerialNumber.objects.filter(pk__in=serial_ids).values(
        "id", "code", "item_id", "status", "current_location_id", "lot__code"
    ):
        nodes[-row["id"]] = {
            "type": "serial",
            "id": row["id"],
            "code": row["code"],
            "item_id": row["item_id"],
            "status": row["status"],
            "lot_code": row["lot__code"],
            "location_ids": [row["current_location_id"]] if row["current_location_id"] else [],
        }
        item_ids.add(row["item_id"])
        if row["current_location_id"]:
            location_ids.add(row["current_location_id"])
    if lot_ids:
        from inventory.models import StockBalance

        for lot_id, location_id in (
            StockBalance.objects.filter(lot_id__in=lot_ids, quantity__gt=0)
            .order_by("location_id")
            .values_list("lot_id", "location_id")
        ):
            nodes[lot_id]["location_ids"].append(location_id)
            location_ids.add(location_id)
    items = {row["id"]: row for row in Item.objects.filter(pk__in=item_ids).values("id", "code", "name")}
    locations = dict(Location.objects.filter(pk__in=location_ids).values_list("id", "code"))
    for node in nodes.values():
        item = items.get(node.pop("item_id"), {})
        node["item"] = {"id": item.get("id"), "code": item.get("code"), "name": item.get("name")}
        node["locations"] = [{"id": pk, "code": locations.get(pk)} for pk in node.pop("location_ids")]
    return nodes


def _tree(start: int, *, direction: str, max_depth: int) -> dict:
    links = _links(start, direction=direction, max_depth=max_depth)
    nodes = describe_nodes({start} | {link["node"] for link in links})
    children: dict[int, list[dict]] = defaultdict(list)
    for link in links:
        children[link["parent"]].append(link)

    def build(key: int, path: frozenset[int], depth: int) -> list[dict]:
        out = []
        for link in children.get(key, ()):
            if link["node"] in path:
                continue  # a cycle in bad data; never followed twice
            out.append(
                {
                    **nodes.get(link["node"], {"type": "unknown", "id": None}),
                    "quantity": link["quantity"],
                    "operation_id": link["operation_id"],
                    "work_order_id": link["work_order_id"],
                    "document_type": link["document_type"],
                    "document_id": link["document_id"],
                    "depth": depth,
                    "children": build(link["node"], path | {link["node"]}, depth + 1) if depth < max_depth else [],
                }
            )
        return out

    root = {**nodes.get(start, {"type": "unknown", "id": None}), "depth": 0}
    root["children"] = build(start, frozenset({start}), 1)
    root["node_count"] = len({link["node"] for link in links})
    root["link_count"] = len(links)
    return root


def trace_backward(*, serial=None, lot=None, max_depth: int = MAX_DEPTH) -> dict:
    """The tree of everything that went into a serial or lot, to the last level."""
    return _tree(_start_key(lot=lot, serial=serial), direction="backward", max_depth=max_depth)


def trace_forward(*, serial=None, lot=None, max_depth: int = MAX_DEPTH) -> dict:
    """The tree of everything a serial or lot went into, to the last level."""
    return _tree(_start_key(lot=lot, serial=serial), direction="forward", max_depth=max_depth)


def forward_leaf_keys(*, serial=None, lot=None, max_depth: int = MAX_DEPTH) -> list[int]:
    """Node keys of the end products a lot or serial went into (itself when it went nowhere)."""
    start = _start_key(lot=lot, serial=serial)
    with _recursive_query_cursor() as cursor:
        cursor.execute(_LEAVES_SQL.format(table=LINK_TABLE), [start, max_depth])
        return sorted(row[0] for row in cursor.fetchall())


def descendant_keys(keys, *, max_depth: int = MAX_DEPTH) -> set[int]:
    """Every node reachable forward from any of ``keys``."""
    keys = list(keys)
    if not keys:
        return set()
    sql = _DESCENDANTS_SQL.format(table=LINK_TABLE, marks=", ".join(["%s"] * len(keys)))
    with _recursive_query_cursor() as cursor:
        cursor.execute(sql, [*keys, max_depth])
        return {row[0] for row in cursor.fetchall()}
