from decimal import Decimal

import factory

from inventory.models import Item
from quality.models import Characteristic, InspectionPlan
from tests.factories.inventory import ItemFactory

__all__ = ["AttributeCharacteristicFactory", "CharacteristicFactory", "InspectionPlanFactory"]


class InspectionPlanFactory(factory.django.DjangoModelFactory):
    """A plan row written directly; use ``quality.services.inspection_plan_create`` for the checks."""

    class Meta:
        model = InspectionPlan

    item = factory.SubFactory(ItemFactory, tracking=Item.Tracking.LOT)
    name = factory.Sequence(lambda n: f"Plan {n}")
    revision = "A"
    trigger = "receipt"
    aql = Decimal("1.0")
    inspection_level = "II"


class CharacteristicFactory(factory.django.DjangoModelFactory):
    """A variable characteristic, 10 ± 1 mm, on an individuals chart."""

    class Meta:
        model = Characteristic

    plan = factory.SubFactory(InspectionPlanFactory)
    name = factory.Sequence(lambda n: f"Dimension {n}")
    kind = Characteristic.Kind.VARIABLE
    nominal = Decimal("10")
    lsl = Decimal("9")
    usl = Decimal("11")
    unit = "mm"
    chart_type = Characteristic.Chart.IMR


class AttributeCharacteristicFactory(CharacteristicFactory):
    name = factory.Sequence(lambda n: f"Visual check {n}")
    kind = Characteristic.Kind.ATTRIBUTE
    nominal = None
    lsl = None
    usl = None
    unit = ""
