"""A small phone plant for the execution tests: a main board made from lots on one SMT operation,
a phone assembled from the board, a display (serials), a battery and a housing (lots), screws
(untracked, backflushed at assembly), then tested and packed (a box backflushed at packing).

Import the fixtures into a test module: ``from tests.orders.execution_setup import *``.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from inventory.models import Item, Location
from inventory.services import receive
from orders import services
from orders.models import DowntimeReason, ScrapReason, WorkOrder
from tests.factories import (
    ItemFactory,
    LocationFactory,
    WorkCenterFactory,
    WorkOrderFactory,
)

__all__ = ["plant", "released", "report_body", "start", "supervisor_client"]


def _line(component, quantity, op):
    return {"component": component, "quantity": Decimal(quantity), "scrap_factor": Decimal("0"), "operation_sequence": op, "is_phantom": False}


@pytest.fixture
def plant(db, make_user):
    loc = lambda code, purpose: LocationFactory(code=code, purpose=purpose)  # noqa: E731
    locations = SimpleNamespace(
        stores=loc("STORES", Location.Purpose.STORAGE),
        line_smt=loc("LINE-SMT", Location.Purpose.LINE_SIDE),
        line_assy=loc("LINE-ASSY", Location.Purpose.LINE_SIDE),
        wip=loc("WIP", Location.Purpose.PRODUCTION),
        fg=loc("FG", Location.Purpose.FINISHED_GOODS),
    )
    make = lambda code, tracking=Item.Tracking.NONE, **kw: ItemFactory(code=code, name=code.title(), tracking=tracking, **kw)  # noqa: E731
    items = SimpleNamespace(
        phone=make("PHONE", Item.Tracking.SERIAL, kind=Item.Kind.MANUFACTURED),
        board=make("BOARD", Item.Tracking.SERIAL, kind=Item.Kind.MANUFACTURED),
        pcb=make("PCB", Item.Tracking.LOT),
        chip=make("CHIP", Item.Tracking.LOT),
        paste=make("PASTE", Item.Tracking.LOT, unit_id="kg"),
        display=make("DISPLAY", Item.Tracking.SERIAL),
        battery=make("BATTERY", Item.Tracking.LOT),
        housing=make("HOUSING", Item.Tracking.LOT),
        screw=make("SCREW"),
        box=make("BOX"),
    )
    centers = SimpleNamespace(
        smt=WorkCenterFactory(code="SMT", line_side_location=locations.line_smt),
        assy=WorkCenterFactory(code="ASSY", line_side_location=locations.line_assy),
        test=WorkCenterFactory(code="TEST"),
        pack=WorkCenterFactory(code="PACK"),
    )
    for parent, lines in (
        (items.board, [_line(items.pcb, "1", 10), _line(items.chip, "2", 10), _line(items.paste, "0.004", 10)]),
        (
            items.phone,
            [
                _line(items.board, "1", 10),
                _line(items.display, "1", 10),
                _line(items.battery, "1", 10),
                _line(items.housing, "1", 10),
                _line(items.screw, "4", 10),
                _line(items.box, "1", 30),
            ],
        ),
    ):
        services.bom_create(data={"item": parent, "revision": "A", "status": "active", "lines": lines})
    op = lambda seq, name, center: {"sequence": seq, "name": name, "work_center": center, "setup_minutes": Decimal("5"), "run_minutes_per_unit": Decimal("2")}  # noqa: E731
    services.routing_create(data={"item": items.board, "revision": "A", "status": "active", "operations": [op(10, "SMT", centers.smt)]})
    services.routing_create(
        data={
            "item": items.phone,
            "revision": "A",
            "status": "active",
            "operations": [op(10, "Assemble", centers.assy), op(20, "Test", centers.test), op(30, "Pack", centers.pack)],
        }
    )
    clerk = make_user("planner", username="receiving-clerk")
    put = lambda item, location, quantity, **kw: receive(item=item, location=location, quantity=Decimal(quantity), user=clerk, **kw)  # noqa: E731
    put(items.pcb, locations.stores, "20", lot_code="PCB-L1")
    put(items.chip, locations.stores, "40", lot_code="CHIP-L1")
    put(items.paste, locations.line_smt, "1.000", lot_code="PASTE-L1")
    put(items.display, locations.stores, "5", serial_codes=[f"DSP-{n}" for n in range(1, 6)])
    put(items.battery, locations.stores, "10", lot_code="BAT-L1")
    put(items.housing, locations.stores, "10", lot_code="HSG-L1")
    put(items.screw, locations.line_assy, "100")
    put(items.box, locations.stores, "10")
    reasons = SimpleNamespace(
        scrap=ScrapReason.objects.create(code="SOLDER", name="Solder defect"),
        old_scrap=ScrapReason.objects.create(code="OLD", name="Retired code", is_active=False),
        downtime=DowntimeReason.objects.create(code="BREAKDOWN", name="Machine breakdown"),
    )
    return SimpleNamespace(items=items, locations=locations, centers=centers, reasons=reasons, clerk=clerk)


@pytest.fixture
def released(plant, make_user):
    """``released(item, quantity)`` → a released work order (through the service)."""
    planner = make_user("planner", username="release-planner")

    def make(item, quantity, **kwargs) -> WorkOrder:
        order = WorkOrderFactory(item=item, quantity=Decimal(str(quantity)), **kwargs)
        return services.work_order_release(work_order=order, user=planner, allow_shortage=True).work_order

    return make


def start(client, operation) -> dict:
    response = client.post(f"/api/v1/operations/{operation.pk}/start/", {"recorded_at": "2026-11-25T08:00:00+01:00"}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def report_body(good, *, scrap=0, consumed=(), serials=(), **extra) -> dict:
    body = {"quantity_good": str(good), "quantity_scrap": str(scrap), "consumed": list(consumed), "produced_serials": list(serials)}
    body.update(extra)
    return body


@pytest.fixture
def supervisor_client(api_client_for):
    return api_client_for("planner")
