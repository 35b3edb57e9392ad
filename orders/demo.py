"""The demo phone plant: a two-shift calendar, work centers, the phone's 3-level BOM with a
phantom fastener kit, routings, and a few draft and released work orders. Idempotent: runs again
without duplicating anything (natural keys: codes, external ids and order numbers)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from inventory.models import Item
from orders import services
from orders.models import WorkCenter, WorkOrder, WorkOrderStatus

CALENDAR = {
    "code": "2SHIFT",
    "name": "Two shifts, Monday to Friday",
    "shifts": [
        {"weekday": day, "start": dt.time(start), "end": dt.time(end), "name": name}
        for day in range(5)
        for start, end, name in ((6, 14, "early"), (14, 22, "late"))
    ],
}

WORK_CENTERS = [
    # code, name, capacity, cost per hour
    ("SMT", "SMT line (printer, pick and place, reflow)", 1, "180.00"),
    ("ASSY", "Final assembly cell", 2, "65.00"),
    ("TEST", "Functional test stations", 2, "40.00"),
    ("PACK", "Packing station", 1, "30.00"),
]

# item: [(component, quantity per, scrap factor, operation sequence, phantom)]
BOMS = {
    "MBD-100": [
        ("PCB-100", "1", "0.01", 10, False),
        ("SOC-A1", "1", "0.005", 10, False),
        ("MEM-8G", "1", "0.005", 10, False),
        ("SLD-PASTE", "0.004", "0.10", 10, False),
        ("RES-10K", "24", "0.02", 10, False),
        ("CAP-100N", "36", "0.02", 10, False),
    ],
    "KIT-FAST": [
        ("SCR-M1", "6", "0.05", None, False),
        ("ADH-TAPE", "2", "0", None, False),
    ],
    "PHN-100": [
        ("MBD-100", "1", "0", 10, False),
        ("DSP-61", "1", "0.01", 10, False),
        ("BAT-4000", "1", "0", 10, False),
        ("HSG-100", "1", "0", 10, False),
        ("KIT-FAST", "1", "0", 10, True),
        ("BOX-100", "1", "0", 30, False),
    ],
}

# item: [(sequence, name, work center, setup minutes, run minutes per unit)]
ROUTINGS = {
    "MBD-100": [(10, "SMT placement and reflow", "SMT", "45", "0.8")],
    "PHN-100": [
        (10, "Final assembly", "ASSY", "20", "6"),
        (20, "Functional test", "TEST", "10", "4"),
        (30, "Pack", "PACK", "5", "1.5"),
    ],
}

# number, item, quantity, due in days, priority, release?
ORDERS = [
    ("WO-DEMO-0001", "MBD-100", "50", 3, 70, True),
    ("WO-DEMO-0002", "PHN-100", "20", 5, 60, True),
    ("WO-DEMO-0003", "PHN-100", "100", 10, 50, False),
    ("WO-DEMO-0004", "MBD-100", "100", 8, 50, False),
]


def load() -> str:
    calendar, _ = services.calendar_upsert_by_external_id(external_id="ERP-CAL-2SHIFT", data=CALENDAR)
    centers = {}
    for code, name, capacity, cost in WORK_CENTERS:
        centers[code], _ = WorkCenter.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "capacity": capacity,
                "cost_per_hour": Decimal(cost),
                "external_id": f"ERP-WC-{code}",
                "calendar": calendar,
            },
        )
    items = {item.code: item for item in Item.objects.filter(code__in={*BOMS, *(c for rows in BOMS.values() for c, *_ in rows)})}
    for parent in ("KIT-FAST", "MBD-100", "PHN-100"):
        services.bom_upsert_by_external_id(
            external_id=f"ERP-BOM-{parent}-A",
            data={
                "item": items[parent],
                "revision": "A",
                "status": "active",
                "description": f"{parent} production BOM",
                "lines": [
                    {
                        "component": items[code],
                        "quantity": Decimal(quantity),
                        "scrap_factor": Decimal(scrap),
                        "operation_sequence": sequence,
                        "is_phantom": phantom,
                    }
                    for code, quantity, scrap, sequence, phantom in BOMS[parent]
                ],
            },
        )
    for parent, operations in ROUTINGS.items():
        services.routing_upsert_by_external_id(
            external_id=f"ERP-RTG-{parent}-A",
            data={
                "item": items[parent],
                "revision": "A",
                "status": "active",
                "operations": [
                    {
                        "sequence": sequence,
                        "name": name,
                        "work_center": centers[center],
                        "setup_minutes": Decimal(setup),
                        "run_minutes_per_unit": Decimal(run),
                    }
                    for sequence, name, center, setup, run in operations
                ],
            },
        )
    released = 0
    now = timezone.now()
    for number, item_code, quantity, due_in_days, priority, release in ORDERS:
        if WorkOrder.objects.filter(number=number).exists():
            continue
        order = services.work_order_create(
            data={
                "number": number,
                "item": items[item_code],
                "quantity": Decimal(quantity),
                "due_at": (now + dt.timedelta(days=due_in_days)).replace(hour=14, minute=0, second=0, microsecond=0),
                "priority": priority,
                "external_id": f"ERP-{number}",
            }
        )
        if release and order.status == WorkOrderStatus.DRAFT:
            services.work_order_release(work_order=order, allow_shortage=True)
            released += 1
    from orders import execution_demo

    shop_floor = execution_demo.load()
    return (
        f"1 calendar, {len(WORK_CENTERS)} work centers, {len(BOMS)} BOMs, {len(ROUTINGS)} routings, "
        f"{len(ORDERS)} work orders ({released} released now), {shop_floor}"
    )
