import factory

from inventory.models import Item, Location, Lot, SerialNumber

__all__ = ["ItemFactory", "LocationFactory", "LotFactory", "SerialNumberFactory"]


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    code = factory.Sequence(lambda n: f"ITEM-{n:05d}")
    name = factory.Faker("sentence", nb_words=3)
    tracking = Item.Tracking.NONE
    unit_id = "pcs"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"LOC-{n:04d}")
    name = factory.Sequence(lambda n: f"Location {n}")


class LotFactory(factory.django.DjangoModelFactory):
    """A lot row only; stock comes from ``inventory.services.receive``."""

    class Meta:
        model = Lot

    item = factory.SubFactory(ItemFactory, tracking=Item.Tracking.LOT)
    code = factory.Sequence(lambda n: f"LOT-{n:05d}")


class SerialNumberFactory(factory.django.DjangoModelFactory):
    """A serial row out of stock; put it in stock with ``inventory.services.receive``."""

    class Meta:
        model = SerialNumber

    item = factory.SubFactory(ItemFactory, tracking=Item.Tracking.SERIAL)
    code = factory.Sequence(lambda n: f"SN-{n:06d}")
    status = SerialNumber.Status.CONSUMED
