from rest_framework import serializers

from inventory.models import Item, Location, UnitOfMeasure


class ItemSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", queryset=UnitOfMeasure.objects.all())

    class Meta:
        model = Item
        fields = [
            "id",
            "code",
            "name",
            "description",
            "tracking",
            "kind",
            "unit",
            "shelf_life_days",
            "external_id",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "code", "name", "parent", "kind", "purpose", "external_id", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
