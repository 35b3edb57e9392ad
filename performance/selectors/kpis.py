"""Key performance indicators of the plant over a range (ISO 22400-2 where it defines them).

* throughput: finished good units (good quantity reported at the last operation of an order)
  per hour of the range; per work center, its good units per hour of the range;
* first-pass yield: of the work orders completed in the range, the good units out of the last
  operation over the units that went into the first (good + scrap there). Units are never
  reworked in this model — a unit that fails is scrapped — so every good unit passed first
  time. Per work center: good / (good + scrap) of the units handled there;
* scrap rate: scrap / (good + scrap) reported in the range, in total and by reason code;
* WIP by work center (now): what the open orders (released, in progress, on hold) still have
  to do at each operation not done, order quantity − good − scrap there;
* on-time delivery: of the work orders completed in the range that have a due date, the share
  completed at or before it.

Counts are production reports by the server's time, reversed reports left out (the same as
:mod:`performance.selectors.figures`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from mes.quantities import ZERO, QuantityField
from orders.models import (
    OPEN_STATUSES,
    OperationStatus,
    WorkCenter,
    WorkOrderEvent,
    WorkOrderOperation,
    WorkOrderStatus,
)
from performance.selectors.figures import counted_reports, ratio, rounded

SECONDS_PER_HOUR = Decimal(3600)


def _per_hour(quantity: Decimal, hours: Decimal) -> float | None:
    return rounded(ratio(quantity, hours), Decimal("0.001"))


def wip_by_work_center() -> dict[int, dict]:
    """Open work per work center now: quantity still to do and the operations it is in (one query)."""
    remaining = Greatest(F("work_order__quantity") - F("quantity_good") - F("quantity_scrap"), Value(ZERO), output_field=QuantityField())
    rows = (
        WorkOrderOperation.objects.filter(work_order__status__in=list(OPEN_STATUSES))
        .exclude(status=OperationStatus.DONE)
        .values("work_center_id")
        .annotate(
            quantity=Sum(remaining),
            operations=Count("pk"),
            running=Count("pk", filter=Q(status__in=[OperationStatus.RUNNING, OperationStatus.PAUSED])),
        )
        .order_by()
    )
    return {row["work_center_id"]: row for row in rows}


def completed_orders(*, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Work orders completed in ``[start, end)``: id, number, due date and when they completed."""
    events = (
        WorkOrderEvent.objects.filter(to_status=WorkOrderStatus.COMPLETED, occurred_at__gte=start, occurred_at__lt=end)
        .values("work_order_id", "work_order__number", "work_order__due_at", "occurred_at")
        .order_by("occurred_at", "work_order_id")
    )
    seen, out = set(), []
    for row in events:
        if row["work_order_id"] in seen:
            continue
        seen.add(row["work_order_id"])
        out.append(row)
    return out


def _first_pass_yield(order_ids: list[int]) -> dict:
    operations = (
        WorkOrderOperation.objects.filter(work_order_id__in=order_ids)
        .values_list("work_order_id", "sequence", "quantity_good", "quantity_scrap")
        .order_by("work_order_id", "sequence")
    )
    by_order: dict[int, list] = defaultdict(list)
    for order_id, sequence, good, scrap in operations:
        by_order[order_id].append((sequence, good, scrap))
    started = finished = ZERO
    for rows in by_order.values():
        started += rows[0][1] + rows[0][2]
        finished += rows[-1][1]
    return {
        "work_orders": len(by_order),
        "started_quantity": started,
        "finished_good_quantity": finished,
        "rate": rounded(ratio(finished, started)),
    }


def _on_time(completed: list[dict]) -> dict:
    with_due = [row for row in completed if row["work_order__due_at"] is not None]
    on_time = [row for row in with_due if row["occurred_at"] <= row["work_order__due_at"]]
    late = [row for row in with_due if row["occurred_at"] > row["work_order__due_at"]]
    return {
        "completed": len(completed),
        "with_due_date": len(with_due),
        "on_time": len(on_time),
        "late": len(late),
        "rate": rounded(ratio(Decimal(len(on_time)), Decimal(len(with_due)))),
        "late_orders": [
            {"work_order": row["work_order_id"], "number": row["work_order__number"], "due_at": row["work_order__due_at"], "completed_at": row["occurred_at"]}
            for row in late
        ],
    }


def kpi_report(*, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> dict:
    """The plant's KPIs over ``[start, end)`` (up to now when the range has not ended)."""
    now = now or timezone.now()
    until = max(min(end, now), start)
    hours = Decimal((until - start) // dt.timedelta(microseconds=1)) / (SECONDS_PER_HOUR * 1_000_000)
    reports = counted_reports().filter(created_at__gte=start, created_at__lt=until)

    per_center = {
        row["operation__work_center_id"]: row
        for row in reports.values("operation__work_center_id")
        .annotate(good=Coalesce(Sum("quantity_good"), ZERO), scrap=Coalesce(Sum("quantity_scrap"), ZERO), count=Count("pk"))
        .order_by()
    }
    last_sequence = Subquery(
        WorkOrderOperation.objects.filter(work_order_id=OuterRef("work_order_id")).order_by("-sequence").values("sequence")[:1]
    )
    finished = reports.annotate(last_sequence=last_sequence).filter(operation__sequence=F("last_sequence")).aggregate(
        quantity=Coalesce(Sum("quantity_good"), ZERO)
    )["quantity"]
    by_reason = list(
        reports.filter(quantity_scrap__gt=0)
        .values("scrap_reason__code", "scrap_reason__name")
        .annotate(quantity=Sum("quantity_scrap"))
        .order_by("-quantity", "scrap_reason__code")
    )
    good = sum((row["good"] for row in per_center.values()), ZERO)
    scrap = sum((row["scrap"] for row in per_center.values()), ZERO)
    produced = good + scrap
    wip = wip_by_work_center()
    completed = completed_orders(start=start, end=until)

    centers = []
    ids = set(per_center) | set(wip)
    for center in WorkCenter.objects.filter(Q(is_active=True) | Q(pk__in=ids)).order_by("code"):
        made = per_center.get(center.pk, {"good": ZERO, "scrap": ZERO, "count": 0})
        work = wip.get(center.pk, {"quantity": ZERO, "operations": 0, "running": 0})
        handled = made["good"] + made["scrap"]
        centers.append(
            {
                "work_center": center.pk,
                "code": center.code,
                "name": center.name,
                "good_quantity": made["good"],
                "scrap_quantity": made["scrap"],
                "produced_quantity": handled,
                "reports": made["count"],
                "throughput_per_hour": _per_hour(made["good"], hours),
                "first_pass_yield": rounded(ratio(made["good"], handled)),
                "scrap_rate": rounded(ratio(made["scrap"], handled)),
                "wip_quantity": work["quantity"] or ZERO,
                "wip_operations": work["operations"],
                "wip_running": work["running"],
            }
        )
    return {
        "start": start,
        "end": end,
        "measured_until": until,
        "hours": rounded(hours, Decimal("0.001")),
        "throughput": {"finished_quantity": finished, "per_hour": _per_hour(finished, hours)},
        "first_pass_yield": _first_pass_yield([row["work_order_id"] for row in completed]),
        "scrap": {
            "produced_quantity": produced,
            "scrap_quantity": scrap,
            "rate": rounded(ratio(scrap, produced)),
            "by_reason": [
                {
                    "reason": row["scrap_reason__code"],
                    "name": row["scrap_reason__name"],
                    "quantity": row["quantity"],
                    "rate": rounded(ratio(row["quantity"], produced)),
                    "share": rounded(ratio(row["quantity"], scrap)),
                }
                for row in by_reason
            ],
        },
        "on_time_delivery": _on_time(completed),
        "work_centers": centers,
    }
