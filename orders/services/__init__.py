"""Writes of the orders app, grouped by concept; import them from here."""

from orders.services.downtime import downtime_close, downtime_open, reason_upsert
from orders.services.execution import operation_complete, operation_pause, operation_resume, operation_start
from orders.services.product import (
    bom_create,
    bom_delete,
    bom_update,
    bom_upsert_by_external_id,
    routing_create,
    routing_delete,
    routing_update,
    routing_upsert_by_external_id,
)
from orders.services.release import ReleaseResult, Shortage, work_order_release
from orders.services.report_reversal import production_report_reverse
from orders.services.reports import production_report_create
from orders.services.work_centers import (
    calendar_create,
    calendar_update,
    calendar_upsert_by_external_id,
    work_center_create,
    work_center_update,
    work_center_upsert_by_external_id,
)
from orders.services.work_orders import (
    work_order_cancel,
    work_order_close,
    work_order_create,
    work_order_delete,
    work_order_hold,
    work_order_resume,
    work_order_transition,
    work_order_update,
    work_order_upsert_by_external_id,
)
from orders.services.work_orders_bulk import work_orders_bulk_upsert

__all__ = [
    "ReleaseResult",
    "Shortage",
    "bom_create",
    "bom_delete",
    "bom_update",
    "bom_upsert_by_external_id",
    "calendar_create",
    "downtime_close",
    "downtime_open",
    "operation_complete",
    "operation_pause",
    "operation_resume",
    "operation_start",
    "production_report_create",
    "production_report_reverse",
    "reason_upsert",
    "calendar_update",
    "calendar_upsert_by_external_id",
    "routing_create",
    "routing_delete",
    "routing_update",
    "routing_upsert_by_external_id",
    "work_center_create",
    "work_center_update",
    "work_center_upsert_by_external_id",
    "work_order_cancel",
    "work_order_close",
    "work_order_create",
    "work_order_delete",
    "work_order_hold",
    "work_order_release",
    "work_order_resume",
    "work_order_transition",
    "work_order_update",
    "work_order_upsert_by_external_id",
    "work_orders_bulk_upsert",
]
