from inventory.api.views import MasterDataViewSet
from orders import services
from orders.api.serializers import WorkCenterSerializer
from orders.models import WorkCenter


class WorkCenterViewSet(MasterDataViewSet):
    queryset = WorkCenter.objects.all()
    serializer_class = WorkCenterSerializer
    filterset_fields = ["code", "external_id", "is_active"]
    ordering_fields = ["code", "name"]
    create_service = staticmethod(services.work_center_create)
    update_service = staticmethod(lambda wc, **kw: services.work_center_update(work_center=wc, **kw))
    upsert_service = staticmethod(services.work_center_upsert_by_external_id)
