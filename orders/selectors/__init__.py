"""Reads of the orders app, grouped by concept; import them from here."""

from orders.selectors.calendars import merge_intervals, working_intervals, working_intervals_for
from orders.selectors.dispatch import (
    DispatchRow,
    MaterialToScan,
    dispatch_queryset,
    dispatch_rows,
    downtime_list,
    operation_history,
    production_report_list,
)
from orders.selectors.structure import (
    Explosion,
    ExplosionLine,
    Requirement,
    WhereUsedRow,
    effective_bom,
    effective_routing,
    explode_bom,
    find_bom_cycle,
    round_up,
    where_used,
)
from orders.selectors.work_orders import (
    bom_list,
    calendar_list,
    operation_list,
    routing_list,
    work_order_detail,
    work_order_list,
)

__all__ = [
    "DispatchRow",
    "MaterialToScan",
    "dispatch_queryset",
    "dispatch_rows",
    "downtime_list",
    "operation_history",
    "production_report_list",
    "Explosion",
    "ExplosionLine",
    "Requirement",
    "WhereUsedRow",
    "bom_list",
    "calendar_list",
    "effective_bom",
    "effective_routing",
    "explode_bom",
    "find_bom_cycle",
    "merge_intervals",
    "operation_list",
    "round_up",
    "routing_list",
    "where_used",
    "work_order_detail",
    "work_order_list",
    "working_intervals",
    "working_intervals_for",
]
