"""Reads of the performance app; import them from here."""

from performance.selectors.dashboard import (
    last_shifts_oee,
    late_orders,
    orders_by_status,
)
from performance.selectors.figures import Figures, counted_reports, measure
from performance.selectors.kpis import kpi_report, wip_by_work_center
from performance.selectors.oee import (
    OEEReport,
    oee_report,
    stale_rollups,
    usable_rollups,
    work_center_for_oee,
)

__all__ = [
    "Figures",
    "OEEReport",
    "counted_reports",
    "kpi_report",
    "last_shifts_oee",
    "late_orders",
    "measure",
    "oee_report",
    "orders_by_status",
    "stale_rollups",
    "usable_rollups",
    "wip_by_work_center",
    "work_center_for_oee",
]
