"""Models of the orders app, one module per concept; import them from ``orders.models``."""

from orders.models.execution import (
    ACTIVE_OPERATION_STATUSES,
    OPERATION_TRANSITIONS,
    DowntimeEvent,
    DowntimeReason,
    OperationEvent,
    ProductionReport,
    ReportConsumption,
    ReportGenealogy,
    ReportOutput,
    ScrapReason,
)
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
    "ACTIVE_OPERATION_STATUSES",
    "OPERATION_TRANSITIONS",
    "DowntimeEvent",
    "DowntimeReason",
    "OperationEvent",
    "ProductionReport",
    "ReportConsumption",
    "ReportGenealogy",
    "ReportOutput",
    "ScrapReason",
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
