import factory

from orders.models import WorkCenter

__all__ = ["WorkCenterFactory"]


class WorkCenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkCenter

    code = factory.Sequence(lambda n: f"WC{n:03d}")
    name = factory.Sequence(lambda n: f"Work center {n}")
    capacity = 1
