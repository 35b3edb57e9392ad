"""The demo phone assembly plant: its items and locations."""

from inventory.models import Item, Location

LOCATIONS = [
    # code, name, parent, kind, purpose
    ("PLANT", "Phone plant", None, "site", "storage"),
    ("RECV", "Receiving dock", "PLANT", "area", "receiving"),
    ("STORES", "Component stores", "PLANT", "area", "storage"),
    ("STORES-A1", "Stores rack A1", "STORES", "bin", "storage"),
    ("STORES-A2", "Stores rack A2", "STORES", "bin", "storage"),
    ("LINE-SMT", "SMT line side", "PLANT", "bin", "line_side"),
    ("LINE-ASSY", "Assembly line side", "PLANT", "bin", "line_side"),
    ("FG", "Finished goods", "PLANT", "area", "finished_goods"),
    ("QUAR", "Quarantine cage", "PLANT", "bin", "quarantine"),
    ("SUPPLIER", "Supplier returns", None, "site", "supplier"),
    ("SCRAP", "Scrap", None, "site", "scrap"),
]

ITEMS = [
    # code, name, kind, tracking, unit, shelf life days
    ("PHN-100", "Phone model 100", "manufactured", "serial", "pcs", None),
    ("MBD-100", "Main board PCBA for phone 100", "manufactured", "serial", "pcs", None),
    ("KIT-FAST", "Fastener kit (phantom)", "phantom", "none", "pcs", None),
    ("PCB-100", "Bare printed circuit board", "purchased", "lot", "pcs", None),
    ("SOC-A1", "System-on-chip A1", "purchased", "lot", "pcs", None),
    ("MEM-8G", "LPDDR memory 8 GB", "purchased", "lot", "pcs", None),
    ("SLD-PASTE", "Solder paste SAC305", "purchased", "lot", "kg", 180),
    ("RES-10K", "Resistor 10 kOhm 0402 (reel)", "purchased", "none", "pcs", None),
    ("CAP-100N", "Capacitor 100 nF 0402 (reel)", "purchased", "none", "pcs", None),
    ("DSP-61", "Display module 6.1 inch", "purchased", "serial", "pcs", None),
    ("BAT-4000", "Battery 4000 mAh", "purchased", "lot", "pcs", 365),
    ("HSG-100", "Housing, phone 100", "purchased", "lot", "pcs", None),
    ("SCR-M1", "Screw M1.2 x 3", "purchased", "none", "pcs", None),
    ("ADH-TAPE", "Adhesive tape strip", "purchased", "none", "pcs", None),
    ("BOX-100", "Retail box, phone 100", "purchased", "none", "pcs", None),
]


def load() -> str:
    locations = {}
    for code, name, parent, kind, purpose in LOCATIONS:
        locations[code], _ = Location.objects.update_or_create(
            code=code,
            defaults={"name": name, "parent": locations.get(parent), "kind": kind, "purpose": purpose},
        )
    for code, name, kind, tracking, unit, shelf_life in ITEMS:
        Item.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "tracking": tracking,
                "unit_id": unit,
                "shelf_life_days": shelf_life,
                "external_id": f"ERP-{code}",
            },
        )
    return f"{len(LOCATIONS)} locations, {len(ITEMS)} items"
