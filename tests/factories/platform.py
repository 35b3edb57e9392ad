import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

__all__ = ["PASSWORD", "UserFactory"]

# Every factory-made user's password: what a test re-enters to sign electronically.
PASSWORD = "secret-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set([Group.objects.get(name=name) for name in extracted])
