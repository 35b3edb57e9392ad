import factory

from inventory.models import Item, Location

__all__ = ["ItemFactory", "LocationFactory"]


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
