"""Fixtures of the orders tests: a phone with a 3-level BOM (scrap factors, a phantom kit), its
routing, and stock to reserve."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from inventory.models import Item
from orders import services
from tests.factories import ItemFactory, LocationFactory, WorkCenterFactory


def line(component, quantity, *, scrap="0", op=None, phantom=False, unit=None):
    row = {
        "component": component,
        "quantity": Decimal(quantity),
        "scrap_factor": Decimal(scrap),
        "operation_sequence": op,
        "is_phantom": phantom,
    }
    if unit is not None:
        row["unit"] = unit
    return row


@pytest.fixture
def planner(make_user):
    return make_user("planner", username="planner-1")


@pytest.fixture
def phone(db):
    """PHONE ← BOARD ×1 (2 % scrap, op 10) ← PCB ×1 (5 %), CHIP ×2, PASTE 0.003 kg (10 %);
    PHONE ← DISPLAY ×1 (op 10), KIT ×1 phantom (op 20) ← SCREW ×6 (5 %), TAPE ×2; PHONE ← BOX ×1 (op 30)."""
    make = lambda code, **kw: ItemFactory(code=code, name=code.title(), **kw)  # noqa: E731
    items = SimpleNamespace(
        phone=make("PHONE", kind=Item.Kind.MANUFACTURED),
        board=make("BOARD", kind=Item.Kind.MANUFACTURED),
        kit=make("KIT", kind=Item.Kind.PHANTOM),
        pcb=make("PCB", tracking=Item.Tracking.LOT),
        chip=make("CHIP"),
        paste=make("PASTE", unit_id="kg"),
        display=make("DISPLAY"),
        screw=make("SCREW"),
        tape=make("TAPE"),
        box=make("BOX"),
    )
    board_bom = services.bom_create(
        data={
            "item": items.board,
            "revision": "A",
            "status": "active",
            "lines": [
                line(items.pcb, "1", scrap="0.05", op=10),
                line(items.chip, "2", op=10),
                line(items.paste, "0.003", scrap="0.10", op=10, unit="kg"),
            ],
        }
    )
    kit_bom = services.bom_create(
        data={
            "item": items.kit,
            "revision": "A",
            "status": "active",
            "lines": [line(items.screw, "6", scrap="0.05"), line(items.tape, "2")],
        }
    )
    phone_bom = services.bom_create(
        data={
            "item": items.phone,
            "revision": "A",
            "status": "active",
            "lines": [
                line(items.board, "1", scrap="0.02", op=10),
                line(items.display, "1", op=10),
                line(items.kit, "1", op=20, phantom=True),
                line(items.box, "1", op=30),
            ],
        }
    )
    assy, test, pack, smt = (WorkCenterFactory(code=code) for code in ("ASSY", "TEST", "PACK", "SMT"))
    routing = services.routing_create(
        data={
            "item": items.phone,
            "revision": "A",
            "status": "active",
            "operations": [
                {"sequence": 10, "name": "Assemble", "work_center": assy, "setup_minutes": Decimal("15"), "run_minutes_per_unit": Decimal("6")},
                {"sequence": 20, "name": "Fasten and test", "work_center": test, "setup_minutes": Decimal("5"), "run_minutes_per_unit": Decimal("3")},
                {"sequence": 30, "name": "Pack", "work_center": pack, "setup_minutes": Decimal("5"), "run_minutes_per_unit": Decimal("1")},
            ],
        }
    )
    board_routing = services.routing_create(
        data={
            "item": items.board,
            "revision": "A",
            "status": "active",
            "operations": [{"sequence": 10, "name": "SMT", "work_center": smt, "setup_minutes": Decimal("30"), "run_minutes_per_unit": Decimal("1")}],
        }
    )
    return SimpleNamespace(
        items=items,
        bom=phone_bom,
        board_bom=board_bom,
        kit_bom=kit_bom,
        routing=routing,
        board_routing=board_routing,
        work_centers=SimpleNamespace(assy=assy, test=test, pack=pack, smt=smt),
    )


@pytest.fixture
def stores(db):
    return LocationFactory(code="STORES")


@pytest.fixture
def stock(stores, make_user):
    """``stock(item, quantity)`` receives stock into STORES (with a lot for lot-tracked items)."""
    from inventory.services import receive

    clerk = make_user("planner", username="stock-clerk")
    counter = {"n": 0}

    def put(item, quantity):
        counter["n"] += 1
        lot = f"L{counter['n']:03d}" if item.tracking == Item.Tracking.LOT else None
        return receive(item=item, location=stores, quantity=Decimal(str(quantity)), lot_code=lot, user=clerk)

    return put


@pytest.fixture
def phone_stock(phone, stock):
    """Enough of every direct component of PHONE for an order of 10."""
    items = phone.items
    for item, quantity in ((items.board, 11), (items.display, 10), (items.screw, 63), (items.tape, 20), (items.box, 10)):
        stock(item, quantity)
    return phone
