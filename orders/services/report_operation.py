"""The operation a production report is for, read and locked in one statement with everything
the report needs to know about where it stands: the operation and the one before it (locked, in
pk order, with their work order, item, unit and work center), the step after it, the output
locations, and the order's frozen material requirements for the operation.

Reads only: nothing here writes (see :mod:`orders.services.reports`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from inventory.models import Item, Location, UnitOfMeasure
from mes import sql
from mes.errors import NotFound
from orders.models import WorkOrderMaterial, WorkOrderOperation
from orders.services.execution import RouteStep, operation_select


@dataclass(frozen=True)
class ReportedOperation:
    operation: WorkOrderOperation
    previous: WorkOrderOperation | None
    next: RouteStep | None
    finished_goods_location_id: int | None  # the first active one, by code
    production_location_id: int | None  # the first active production (work in progress) location
    materials: dict[int, WorkOrderMaterial]  # the operation's requirements by item id, items and units attached


# The first active location of a purpose, by code: where a report's output goes when no work
# center's line side takes it.
_FIRST_LOCATION = "SELECT l.id FROM inventory_location l WHERE l.purpose = %s AND l.is_active = %s ORDER BY l.code LIMIT 1"
_STEPS = 6  # previous id, next id, next sequence, next line side, finished goods, production


@cache
def _statement() -> tuple[str, tuple[sql.Part, ...], tuple[sql.Part, ...]]:
    operation_columns, operation_parts = operation_select()
    material_parts = (
        sql.Part(WorkOrderMaterial, name="material"),
        sql.Part(Item, name="material_item", parent="material", relation="item"),
        sql.Part(UnitOfMeasure, name="material_unit", parent="material_item", relation="unit"),
    )
    material_columns = ", ".join(
        [sql.select_columns(WorkOrderMaterial, "m"), sql.select_columns(Item, "mi"), sql.select_columns(UnitOfMeasure, "mu")]
    )
    text = (
        # The route of the operation's work order, each step with its neighbours.
        "WITH route AS (SELECT r.id, lag(r.id) OVER w AS previous_id, lead(r.id) OVER w AS next_id, "
        "lead(r.sequence) OVER w AS next_sequence, lead(rc.line_side_location_id) OVER w AS next_line_side "
        "FROM orders_workorderoperation r JOIN orders_workcenter rc ON rc.id = r.work_center_id "
        "WHERE r.work_order_id = (SELECT s.work_order_id FROM orders_workorderoperation s WHERE s.id = %s) "
        "WINDOW w AS (ORDER BY r.sequence)), "
        "here AS (SELECT * FROM route WHERE id = %s) "
        f"SELECT {operation_columns}, "
        "(SELECT previous_id FROM here), (SELECT next_id FROM here), (SELECT next_sequence FROM here), "
        f"(SELECT next_line_side FROM here), ({_FIRST_LOCATION}), ({_FIRST_LOCATION}), {material_columns} "
        "FROM orders_workorderoperation o "
        "JOIN orders_workorder w ON w.id = o.work_order_id "
        "JOIN inventory_item i ON i.id = w.item_id "
        "JOIN inventory_unitofmeasure u ON u.code = i.unit_id "
        "JOIN orders_workcenter c ON c.id = o.work_center_id "
        # The requirements only on the reported operation's row (none on the previous one's).
        "LEFT JOIN orders_workordermaterial m ON o.id = %s AND m.work_order_id = o.work_order_id "
        "AND m.operation_sequence = o.sequence "
        "LEFT JOIN inventory_item mi ON mi.id = m.item_id "
        "LEFT JOIN inventory_unitofmeasure mu ON mu.code = mi.unit_id "
        "WHERE o.id IN (SELECT id FROM here UNION ALL SELECT previous_id FROM here) "
        f"ORDER BY o.id, m.id {sql.for_update('o')}"
    )
    return text, operation_parts, material_parts


def lock_reported_operation(operation_id: int) -> ReportedOperation:
    """Lock operation ``operation_id`` and the one before it in its route (by pk, as every
    execution service locks operations) and read what a report needs with them, in one
    statement; ``NotFound`` when there is no such operation."""
    text, operation_parts, material_parts = _statement()
    purposes = [Location.Purpose.FINISHED_GOODS.value, True, Location.Purpose.PRODUCTION.value, True]
    rows = sql.fetch_rows(
        text, [operation_id, operation_id, *purposes, operation_id], [*operation_parts, sql.Values(_STEPS), *material_parts],
        repeated_shared=True,
    )
    if not rows:
        raise NotFound(f"Operation {operation_id} does not exist.")
    operations = {row[0].pk: row[0] for row in rows}
    previous_id, next_id, next_sequence, next_line_side, finished_goods, production = rows[0][len(operation_parts)]
    material = len(operation_parts) + 1
    return ReportedOperation(
        operation=operations[operation_id],
        previous=operations.get(previous_id),
        next=RouteStep(next_id, next_sequence, next_line_side) if next_id is not None else None,
        finished_goods_location_id=finished_goods,
        production_location_id=production,
        materials={row[material].item_id: row[material] for row in rows if row[material] is not None},
    )
