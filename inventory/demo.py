"""The demo phone assembly plant: its items, locations and opening stock of components."""

from decimal import Decimal

from inventory import services
from inventory.models import Item, Location, Lot, SerialNumber, StockMove

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


# Opening stock: item code, location code, quantity, lot code (lot-tracked) or serial prefix (serial-tracked)
RECEIPTS = [
    ("PCB-100", "STORES-A1", "500", "PCB-2611-001"),
    ("PCB-100", "STORES-A1", "300", "PCB-2611-002"),
    ("SOC-A1", "STORES-A1", "400", "SOC-A1-L2611A"),
    ("MEM-8G", "STORES-A1", "400", "MEM-L7781"),
    ("SLD-PASTE", "LINE-SMT", "5.000", "SP-24-118"),
    ("BAT-4000", "STORES-A2", "300", "BAT-L0911"),
    ("HSG-100", "STORES-A2", "300", "HSG-L0042"),
    ("DSP-61", "STORES-A2", "20", "DSP61-"),
    ("RES-10K", "LINE-SMT", "20000", None),
    ("CAP-100N", "LINE-SMT", "20000", None),
    ("SCR-M1", "LINE-ASSY", "5000", None),
    ("ADH-TAPE", "LINE-ASSY", "1000", None),
    ("BOX-100", "STORES-A2", "500", None),
]
OPENING_REFERENCE = "DEMO-OPENING"


def load_master_data() -> tuple[dict[str, Location], dict[str, Item]]:
    locations = {}
    for code, name, parent, kind, purpose in LOCATIONS:
        locations[code], _ = Location.objects.update_or_create(
            code=code,
            defaults={"name": name, "parent": locations.get(parent), "kind": kind, "purpose": purpose},
        )
    items = {}
    for code, name, kind, tracking, unit, shelf_life in ITEMS:
        items[code], _ = Item.objects.update_or_create(
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
    return locations, items


def load_opening_stock(locations: dict[str, Location], items: dict[str, Item]) -> int:
    """Receive the components once: a lot only when it does not exist yet, serials likewise,
    untracked stock only when its opening receipt is not in the ledger."""
    received = 0
    for code, location, quantity, tracking_code in RECEIPTS:
        item = items[code]
        kwargs = {"item": item, "location": locations[location], "quantity": Decimal(quantity), "reference": OPENING_REFERENCE}
        if item.tracking == Item.Tracking.LOT:
            if Lot.objects.filter(item=item, code=tracking_code).exists():
                continue
            kwargs["lot_code"] = tracking_code
            kwargs["supplier_lot"] = f"SUP-{tracking_code}"
        elif item.tracking == Item.Tracking.SERIAL:
            codes = [f"{tracking_code}{n:06d}" for n in range(1, int(quantity) + 1)]
            if SerialNumber.objects.filter(item=item, code__in=codes).exists():
                continue
            kwargs["serial_codes"] = codes
        elif StockMove.objects.filter(item=item, reference=OPENING_REFERENCE).exists():
            continue
        services.receive(**kwargs, user=None)
        received += 1
    return received


def load() -> str:
    locations, items = load_master_data()
    received = load_opening_stock(locations, items)
    return f"{len(LOCATIONS)} locations, {len(ITEMS)} items, {received} opening receipts"
