import django_filters

from inventory.models import Item, Location


class ItemFilter(django_filters.FilterSet):
    code = django_filters.CharFilter()
    code__startswith = django_filters.CharFilter(field_name="code", lookup_expr="istartswith")
    external_id = django_filters.CharFilter()

    class Meta:
        model = Item
        fields = ["code", "tracking", "kind", "external_id", "is_active", "unit"]


class LocationFilter(django_filters.FilterSet):
    class Meta:
        model = Location
        fields = ["code", "parent", "kind", "purpose", "external_id", "is_active"]
