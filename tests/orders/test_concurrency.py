"""Concurrent releases and BOM edits on PostgreSQL, with real threads."""

import threading
from decimal import Decimal

import pytest

from inventory.models import Reservation
from mes.errors import ApplicationError
from orders import services
from orders.models import BillOfMaterials, WorkOrder
from tests.concurrency import race
from tests.factories import ItemFactory, WorkOrderFactory
from tests.orders.conftest import line

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_same_order_released_twice_at_once_is_released_once(phone_stock):
    order = WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10"))
    release = lambda: services.work_order_release(work_order=WorkOrder.objects.get(pk=order.pk))  # noqa: E731
    outcomes = race(release, release, join_timeout=60)
    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(refused) == 1 and refused[0].code == "invalid_transition", outcomes
    assert Reservation.objects.filter(demand_id=order.pk).count() == 5
    assert WorkOrder.objects.get(pk=order.pk).operations.count() == 3


def test_two_orders_racing_for_scarce_stock_never_over_reserve(phone_stock):
    # Stock covers one order of 10; two are released at once without allow_shortage.
    first, second = (WorkOrderFactory(item=phone_stock.items.phone, quantity=Decimal("10")) for _ in range(2))
    calls = [lambda pk=o.pk: services.work_order_release(work_order=WorkOrder.objects.get(pk=pk)) for o in (first, second)]
    outcomes = race(*calls, join_timeout=60)
    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(refused) == 1 and refused[0].code == "shortage", outcomes
    assert sorted(WorkOrder.objects.values_list("status", flat=True)) == ["draft", "released"]
    screws = sum(r.quantity for r in Reservation.objects.filter(item=phone_stock.items.screw, status="open"))
    assert screws == Decimal("63")


def test_two_edits_that_together_make_a_cycle_cannot_both_pass(db, monkeypatch):
    a, b, c, d = (ItemFactory(code=code) for code in "ABCD")
    # Hold each edit for a moment after its cycle check, so both checks would run before either
    # commits if nothing serialised them.
    from orders.services import product

    checked = threading.Barrier(2)
    original = product.find_bom_cycle

    def check_then_wait(**kwargs):
        result = original(**kwargs)
        try:
            checked.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return result

    monkeypatch.setattr(product, "find_bom_cycle", check_then_wait)
    services.bom_create(data={"item": b, "revision": "1", "lines": [line(c, "1")]})
    services.bom_create(data={"item": d, "revision": "1", "lines": [line(a, "1")]})
    # A → B (→ C) and C → D (→ A): each alone is fine, together A → B → C → D → A.
    outcomes = race(
        lambda: services.bom_create(data={"item": a, "revision": "1", "lines": [line(b, "1")]}),
        lambda: services.bom_create(data={"item": c, "revision": "1", "lines": [line(d, "1")]}),
        join_timeout=60,
    )
    refused = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(refused) == 1 and refused[0].code == "bom_cycle", outcomes
    assert BillOfMaterials.objects.count() == 3
