"""Shop-floor set-up of the demo plant: line-side locations of the work centers, a work-in-progress
location, and the scrap and downtime reason codes. Idempotent (natural keys: codes)."""

from __future__ import annotations

from inventory.models import Location
from orders.models import DowntimeReason, ScrapReason, WorkCenter

SCRAP_REASONS = [
    ("SOLDER", "Solder defect (bridge, void, tombstone)"),
    ("COMPONENT", "Component damaged or missing"),
    ("COSMETIC", "Cosmetic defect (scratch, dent)"),
    ("TEST-FAIL", "Failed functional test"),
    ("HANDLING", "Dropped or damaged in handling"),
    ("SETUP", "Set-up and first-piece scrap"),
]

DOWNTIME_REASONS = [
    # code, name, planned
    ("BREAKDOWN", "Machine breakdown", False),
    ("CHANGEOVER", "Changeover to another product", False),
    ("MATERIAL", "Waiting for material", False),
    ("QUALITY", "Quality stop", False),
    ("MAINT", "Planned maintenance", True),
    ("BREAK", "Scheduled break", True),
]

# work center → its line-side location (created when missing)
LINE_SIDES = {
    "SMT": ("LINE-SMT", "SMT line side"),
    "ASSY": ("LINE-ASSY", "Assembly line side"),
    "TEST": ("LINE-TEST", "Test stations line side"),
    "PACK": ("LINE-PACK", "Packing station line side"),
}


def load() -> str:
    plant = Location.objects.filter(code="PLANT").first()
    for code, name in SCRAP_REASONS:
        ScrapReason.objects.update_or_create(code=code, defaults={"name": name, "is_active": True})
    for code, name, planned in DOWNTIME_REASONS:
        DowntimeReason.objects.update_or_create(code=code, defaults={"name": name, "is_planned": planned, "is_active": True})
    Location.objects.get_or_create(
        code="WIP", defaults={"name": "Work in progress", "parent": plant, "kind": Location.Kind.BIN, "purpose": Location.Purpose.PRODUCTION}
    )
    for center_code, (location_code, name) in LINE_SIDES.items():
        location, _ = Location.objects.get_or_create(
            code=location_code,
            defaults={"name": name, "parent": plant, "kind": Location.Kind.BIN, "purpose": Location.Purpose.LINE_SIDE},
        )
        WorkCenter.objects.filter(code=center_code, line_side_location__isnull=True).update(line_side_location=location)
    return f"{len(SCRAP_REASONS)} scrap reasons, {len(DOWNTIME_REASONS)} downtime reasons, {len(LINE_SIDES)} line sides"
