"""Models of the orders app, one module per concept; import them from ``orders.models``."""

from orders.models.product import BillOfMaterials, BOMLine, RevisionStatus, Routing, RoutingOperation
from orders.models.work_centers import Calendar, CalendarException, Shift, WorkCenter
from orders.models.work_orders import (
    OPEN_STATUSES,
    WORK_ORDER_TRANSITIONS,
    OperationStatus,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderMaterial,
    WorkOrderOperation,
    WorkOrderStatus,
)

__all__ = [
    "OPEN_STATUSES",
    "WORK_ORDER_TRANSITIONS",
    "BOMLine",
    "BillOfMaterials",
    "Calendar",
    "CalendarException",
    "OperationStatus",
    "RevisionStatus",
    "Routing",
    "RoutingOperation",
    "Shift",
    "WorkCenter",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderMaterial",
    "WorkOrderOperation",
    "WorkOrderStatus",
]
