"""Row locks of the orders app, always taken in the same order so writers cannot deadlock.

Order: the product-structure lock (BOM edits), then work orders (by pk), then their operations
and materials (by pk); inventory's own locks (items, balances, reservations) come after, inside
the inventory services the orders services call.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from orders.models import BillOfMaterials, Routing, WorkOrder

# An arbitrary constant naming "the product structure" for PostgreSQL's advisory locks.
PRODUCT_STRUCTURE_LOCK_KEY = 0x4D45_5342  # "MESB"
ROUTING_STRUCTURE_LOCK_KEY = 0x4D45_5352  # "MESR"


def _advisory_lock(key: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def lock_product_structure() -> None:
    """Serialise changes to BOM structure, so two edits cannot each pass the cycle check and
    together make a cycle. Held until the end of the transaction. SQLite serialises writers
    already (its transactions are IMMEDIATE)."""
    _advisory_lock(PRODUCT_STRUCTURE_LOCK_KEY)


def lock_routing_structure() -> None:
    """Serialise routing edits, so two activations of overlapping revisions cannot both pass."""
    _advisory_lock(ROUTING_STRUCTURE_LOCK_KEY)


def _ids(values: Iterable) -> list[int]:
    return sorted({getattr(v, "pk", v) for v in values if v is not None})


def lock_work_order(work_order) -> WorkOrder:
    pk = getattr(work_order, "pk", work_order)
    return WorkOrder.objects.select_for_update(of=("self",)).select_related("item", "item__unit").get(pk=pk)


def lock_work_orders(work_orders: Iterable) -> list[WorkOrder]:
    return list(WorkOrder.objects.select_for_update(of=("self",)).filter(pk__in=_ids(work_orders)).order_by("pk"))


def lock_bom(bom) -> BillOfMaterials:
    pk = getattr(bom, "pk", bom)
    return BillOfMaterials.objects.select_for_update(of=("self",)).get(pk=pk)


def lock_routing(routing) -> Routing:
    pk = getattr(routing, "pk", routing)
    return Routing.objects.select_for_update(of=("self",)).get(pk=pk)
