import datetime as dt
from decimal import Decimal

import factory

from orders.models import (
    BillOfMaterials,
    BOMLine,
    Calendar,
    CalendarException,
    Routing,
    RoutingOperation,
    Shift,
    WorkCenter,
    WorkOrder,
)
from tests.factories.inventory import ItemFactory

__all__ = [
    "BOMFactory",
    "BOMLineFactory",
    "CalendarExceptionFactory",
    "CalendarFactory",
    "RoutingFactory",
    "RoutingOperationFactory",
    "ShiftFactory",
    "WorkCenterFactory",
    "WorkOrderFactory",
]


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Calendar

    code = factory.Sequence(lambda n: f"CAL{n:03d}")
    name = factory.Sequence(lambda n: f"Calendar {n}")
    timezone = "UTC"


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    calendar = factory.SubFactory(CalendarFactory)
    weekday = 0
    start = dt.time(6)
    end = dt.time(14)


class CalendarExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarException

    calendar = factory.SubFactory(CalendarFactory)
    kind = CalendarException.Kind.CLOSED
    date = dt.date(2026, 12, 25)
    reason = "Holiday"


class WorkCenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkCenter

    code = factory.Sequence(lambda n: f"WC{n:03d}")
    name = factory.Sequence(lambda n: f"Work center {n}")
    capacity = 1


class BOMFactory(factory.django.DjangoModelFactory):
    """A BOM header written directly; use ``orders.services.bom_create`` to get the checks."""

    class Meta:
        model = BillOfMaterials

    item = factory.SubFactory(ItemFactory, kind="manufactured")
    revision = factory.Sequence(lambda n: f"R{n}")
    status = "active"


class BOMLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BOMLine

    bom = factory.SubFactory(BOMFactory)
    component = factory.SubFactory(ItemFactory)
    quantity = Decimal("1")
    unit_id = factory.LazyAttribute(lambda line: line.component.unit_id)
    position = factory.Sequence(lambda n: n)


class RoutingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Routing

    item = factory.SubFactory(ItemFactory, kind="manufactured")
    revision = factory.Sequence(lambda n: f"R{n}")
    status = "active"


class RoutingOperationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingOperation

    routing = factory.SubFactory(RoutingFactory)
    sequence = factory.Sequence(lambda n: (n + 1) * 10)
    name = factory.Sequence(lambda n: f"Operation {n}")
    work_center = factory.SubFactory(WorkCenterFactory)
    setup_minutes = Decimal("10")
    run_minutes_per_unit = Decimal("2")


class WorkOrderFactory(factory.django.DjangoModelFactory):
    """A draft work order; ``orders.services.work_order_release`` releases it."""

    class Meta:
        model = WorkOrder

    number = factory.Sequence(lambda n: f"WO-T{n:05d}")
    item = factory.SubFactory(ItemFactory, kind="manufactured")
    quantity = Decimal("10")
