"""Item master and locations over the API."""

from rest_framework import mixins, viewsets

from inventory import services
from inventory.api.filters import ItemFilter, LocationFilter
from inventory.api.serializers import ItemSerializer, LocationSerializer
from inventory.models import Item, Location
from mes.api.permissions import ALL_ROLES, INTEGRATION, PLANNER
from mes.api.upsert import ExternalIdUpsertMixin

MASTER_DATA_WRITERS = frozenset({PLANNER, INTEGRATION})


class MasterDataViewSet(
    ExternalIdUpsertMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """CRUD + upsert by external id; writes go through the app's services."""

    read_roles = ALL_ROLES
    write_roles = MASTER_DATA_WRITERS
    create_service = None
    update_service = None

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(data=serializer.validated_data, user=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = type(self).update_service(
            serializer.instance, data=serializer.validated_data, user=self.request.user
        )


class ItemViewSet(MasterDataViewSet):
    queryset = Item.objects.select_related("unit").all()
    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "created_at"]
    create_service = staticmethod(services.item_create)
    update_service = staticmethod(lambda item, **kw: services.item_update(item=item, **kw))
    upsert_service = staticmethod(services.item_upsert_by_external_id)


class LocationViewSet(MasterDataViewSet):
    queryset = Location.objects.all()
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    ordering_fields = ["code", "name"]
    create_service = staticmethod(services.location_create)
    update_service = staticmethod(lambda location, **kw: services.location_update(location=location, **kw))
    upsert_service = staticmethod(services.location_upsert_by_external_id)
