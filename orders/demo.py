"""The demo phone plant's work centers."""

from decimal import Decimal

from orders.models import WorkCenter

WORK_CENTERS = [
    # code, name, capacity, cost per hour
    ("SMT", "SMT line (printer, pick and place, reflow)", 1, "180.00"),
    ("ASSY", "Final assembly cell", 2, "65.00"),
    ("TEST", "Functional test stations", 2, "40.00"),
    ("PACK", "Packing station", 1, "30.00"),
]


def load() -> str:
    for code, name, capacity, cost in WORK_CENTERS:
        WorkCenter.objects.update_or_create(
            code=code,
            defaults={"name": name, "capacity": capacity, "cost_per_hour": Decimal(cost), "external_id": f"ERP-WC-{code}"},
        )
    return f"{len(WORK_CENTERS)} work centers"
