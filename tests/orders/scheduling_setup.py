"""Helpers for the scheduling tests: released work orders built through the services, a run done
in-process, and checks of the published plan read back from the database."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from inventory.models import Item
from orders import services
from orders.models import ScheduleRun, WorkOrder, WorkOrderOperation
from orders.services.scheduling import schedule_run_execute, schedule_run_start
from tests.factories import ItemFactory

JOBSHOP_DIR = Path(__file__).resolve().parents[2] / "bench" / "jobshop"
UTC = dt.UTC
# Midnight (UTC) of the Monday after next: ahead of "now" for the whole run of the suite.
_TODAY = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
MONDAY = _TODAY + dt.timedelta(days=14 - _TODAY.weekday())


def release_order(steps, *, quantity="1", priority=50, due_at=None, release_time=None, number=None) -> WorkOrder:
    """Release a work order whose routing is ``steps``: ``[(work_center, setup, run_per_unit), …]``."""
    item = ItemFactory(kind=Item.Kind.MANUFACTURED)
    services.routing_create(
        data={
            "item": item,
            "revision": "A",
            "status": "active",
            "operations": [
                {
                    "sequence": 10 * (k + 1),
                    "name": f"Step {k + 1}",
                    "work_center": center,
                    "setup_minutes": Decimal(str(setup)),
                    "run_minutes_per_unit": Decimal(str(run)),
                }
                for k, (center, setup, run) in enumerate(steps)
            ],
        }
    )
    data = {"item": item, "quantity": Decimal(quantity), "priority": priority, "due_at": due_at, "release_time": release_time}
    if number:
        data["number"] = number
    order = services.work_order_create(data=data)
    return services.work_order_release(work_order=order).work_order


def schedule(*, user=None, **inputs) -> ScheduleRun:
    """Start a run and do it here (its queued job only fires on a real commit)."""
    run = schedule_run_start(user=user, **{"time_limit_seconds": 10, **inputs})
    return schedule_run_execute(run_id=run.pk)


def planned(order: WorkOrder) -> list[WorkOrderOperation]:
    return list(order.operations.order_by("sequence"))


def overlaps_per_center(operations) -> dict[int, int]:
    """Most operations planned at once on each work center (touching ends do not overlap)."""
    events = defaultdict(list)
    for op in operations:
        events[op.work_center_id].append((op.planned_start, 1))
        events[op.work_center_id].append((op.planned_end, -1))
    peak = {}
    for center, rows in events.items():
        level = top = 0
        for _, delta in sorted(rows, key=lambda e: (e[0], e[1])):
            level += delta
            top = max(top, level)
        peak[center] = top
    return peak


def assert_routing_order(operations) -> None:
    by_order = defaultdict(list)
    for op in operations:
        by_order[op.work_order_id].append(op)
    for ops in by_order.values():
        ops.sort(key=lambda op: op.sequence)
        for before, after in zip(ops, ops[1:]):
            assert after.planned_start >= before.planned_end, (before, after)


def minutes(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 60
