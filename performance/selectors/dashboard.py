"""What the planner's dashboard shows: orders by status, late orders, OEE of the last shifts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from orders.models import OPEN_STATUSES, WorkCenter, WorkOrder, WorkOrderStatus
from performance.models import PeriodKind
from performance.selectors.oee import oee_report

CHART_WIDTH = 360
CHART_HEIGHT = 120


@dataclass
class ShiftBar:
    label: str
    title: str
    oee: float | None
    x: int
    height: int
    y: int


def orders_by_status() -> list[dict]:
    counts = {row["status"]: row["n"] for row in WorkOrder.objects.values("status").annotate(n=Count("pk")).order_by()}
    return [{"status": value, "label": label, "count": counts.get(value, 0)} for value, label in WorkOrderStatus.choices]


def late_orders(*, now: dt.datetime | None = None, limit: int = 25):
    now = now or timezone.now()
    return (
        WorkOrder.objects.filter(status__in=list(OPEN_STATUSES), due_at__lt=now)
        .select_related("item")
        .order_by("due_at", "number")[:limit]
    )


def last_shifts_oee(*, shifts: int = 8, days: int = 7, now: dt.datetime | None = None) -> list[dict]:
    """Per active work center, OEE of its last ``shifts`` shifts with planned time (of the last
    ``days`` days), with bar geometry for a small inline SVG chart."""
    now = now or timezone.now()
    out = []
    centers = WorkCenter.objects.filter(is_active=True).select_related("calendar").prefetch_related("calendar__shifts").order_by("code")
    for center in centers:
        report = oee_report(work_center=center, start=now - dt.timedelta(days=days), end=now, now=now)
        pieces = [
            p for p in report.pieces if p.period.kind != PeriodKind.OFF_SHIFT and p.figures.planned_busy_time > dt.timedelta(0)
        ][-shifts:]
        step = CHART_WIDTH // max(shifts, 1)
        bars = []
        for index, piece in enumerate(pieces):
            value = piece.figures.as_dict()["oee"]
            height = round(min(value or 0, 1.2) / 1.2 * (CHART_HEIGHT - 20))
            local = piece.start.astimezone(timezone.get_current_timezone())
            bars.append(
                ShiftBar(
                    label=f"{local:%a %H}h",
                    title=f"{piece.period.name} {local:%Y-%m-%d %H:%M}: OEE "
                    + ("—" if value is None else f"{value:.0%}")
                    + f", {piece.figures.good_quantity} good, {piece.figures.scrap_quantity} scrap",
                    oee=value,
                    x=index * step + 4,
                    height=height,
                    y=CHART_HEIGHT - 20 - height,
                )
            )
        out.append(
            {
                "work_center": center,
                "bars": bars,
                "bar_width": max(step - 8, 4),
                "totals": report.totals.as_dict(),
                "width": CHART_WIDTH,
                "height": CHART_HEIGHT,
                "target_y": CHART_HEIGHT - 20 - round(0.85 / 1.2 * (CHART_HEIGHT - 20)),
            }
        )
    return out
