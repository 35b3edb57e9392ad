"""The demo plant's quality: an incoming inspection plan for the displays and the final test of
the phone, two display shipments (one accepted, one rejected and held under a nonconformance),
and five final-test batches with enough measurements for the control charts. Idempotent: plans
by (item, name, revision), shipments by serial codes, test batches by their reference."""

from __future__ import annotations

import random
from decimal import Decimal

from inventory import services as inventory
from inventory.models import Item, Location, SerialNumber
from quality import services
from quality.models import Characteristic, Inspection, InspectionPlan, InspectionStatus

PLANS = [
    {
        "item": "DSP-61",
        "name": "Incoming inspection, display 6.1 inch",
        "revision": "A",
        "description": "Sampled on receipt: luminance at full white and a visual check for scratches and dead pixels.",
        "trigger": "receipt",
        "aql": Decimal("1.0"),
        "inspection_level": "II",
        "hold_on_spc_violation": False,
        "characteristics": [
            {"name": "Brightness", "kind": "variable", "nominal": Decimal("600"), "lsl": Decimal("550"),
             "usl": Decimal("650"), "unit": "nits", "chart_type": "imr"},
            {"name": "Cosmetic check", "kind": "attribute", "unit": ""},
        ],
    },
    {
        "item": "PHN-100",
        "name": "Final functional test, phone 100",
        "revision": "A",
        "description": "Sampled from each finished batch: idle current draw, RF output power, boot and display.",
        "trigger": "final",
        "aql": Decimal("0.65"),
        "inspection_level": "II",
        "hold_on_spc_violation": True,
        "characteristics": [
            {"name": "Battery current draw (idle)", "kind": "variable", "nominal": Decimal("120"),
             "lsl": Decimal("100"), "usl": Decimal("140"), "unit": "mA", "chart_type": "xbar_r", "subgroup_size": 5},
            {"name": "RF output power", "kind": "variable", "nominal": Decimal("23.0"), "lsl": Decimal("21.0"),
             "usl": Decimal("25.0"), "unit": "dBm", "chart_type": "imr"},
            {"name": "Boot and display test", "kind": "attribute", "unit": ""},
        ],
    },
]

# (serial prefix, reference, brightness of the units out of spec by sample index)
SHIPMENTS = [
    ("DSP61-S1-", "DEMO-ASN-4711", {}),
    ("DSP61-S2-", "DEMO-ASN-4712", {3: "532.0"}),
]
SHIPMENT_SIZE = 50
FINAL_BATCHES = 5
FINAL_BATCH_SIZE = 125


def _plan(spec: dict) -> InspectionPlan:
    item = Item.objects.get(code=spec["item"])
    data = {**spec, "item": item, "characteristics": [dict(row) for row in spec["characteristics"]]}
    plan = InspectionPlan.objects.filter(item=item, name=spec["name"], revision=spec["revision"]).first()
    if plan is None:
        return services.inspection_plan_create(data=data)
    return services.inspection_plan_update(plan=plan, data=data)


def _measure(inspection: Inspection, *, rng: random.Random, overrides: dict | None = None) -> None:
    """Every characteristic of every sampled unit: values around nominal, inside the limits."""
    overrides = overrides or {}
    rows = []
    for characteristic in inspection.plan.characteristics.order_by("position", "id"):
        for index in range(1, inspection.sample_size + 1):
            if characteristic.kind == Characteristic.Kind.ATTRIBUTE:
                rows.append({"characteristic": characteristic, "sample_index": index, "passed": True})
                continue
            if characteristic.name == "Brightness" and index in overrides:
                value = Decimal(overrides[index])
            else:
                spread = (characteristic.usl - characteristic.lsl) / 12
                value = Decimal(str(round(rng.gauss(float(characteristic.nominal), float(spread)), 2)))
                value = min(max(value, characteristic.lsl), characteristic.usl)
            rows.append({"characteristic": characteristic, "sample_index": index, "value": value})
    services.measurements_record(inspection=inspection, measurements=rows, user=None)


def _shipments(plan: InspectionPlan) -> int:
    receiving = Location.objects.get(code="RECV")
    received = 0
    for number, (prefix, reference, overrides) in enumerate(SHIPMENTS, start=1):
        codes = [f"{prefix}{n:04d}" for n in range(1, SHIPMENT_SIZE + 1)]
        if SerialNumber.objects.filter(item=plan.item, code__in=codes).exists():
            continue
        inventory.receive(item=plan.item, location=receiving, quantity=SHIPMENT_SIZE, serial_codes=codes, reference=reference, user=None)
        inspection = Inspection.objects.filter(plan=plan, status=InspectionStatus.OPEN).order_by("-pk").first()
        if inspection is not None:
            _measure(inspection, rng=random.Random(6100 + number), overrides=overrides)
        received += 1
    return received


def _final_tests(plan: InspectionPlan) -> int:
    made = 0
    for batch in range(1, FINAL_BATCHES + 1):
        reference = f"DEMO-FINAL-TEST-{batch}"
        if Inspection.objects.filter(plan=plan, reference=reference).exists():
            continue
        inspection = services.inspection_create(plan=plan, lot_size=FINAL_BATCH_SIZE, reference=reference, user=None)
        _measure(inspection, rng=random.Random(10000 + batch))
        made += 1
    return made


def load() -> str:
    displays, phones = (_plan(spec) for spec in PLANS)
    shipments = _shipments(displays)
    batches = _final_tests(phones)
    return f"{len(PLANS)} inspection plans, {shipments} display shipments inspected, {batches} final test batches"
