import django_filters

from orders.models import BillOfMaterials, OperationStatus, Routing, WorkCenter, WorkOrder, WorkOrderOperation, WorkOrderStatus


class WorkCenterFilter(django_filters.FilterSet):
    class Meta:
        model = WorkCenter
        fields = ["code", "external_id", "is_active", "calendar"]


class RevisionFilter(django_filters.FilterSet):
    item_code = django_filters.CharFilter(field_name="item__code")

    class Meta:
        fields = ["item", "status", "revision", "external_id"]


class BOMFilter(RevisionFilter):
    class Meta(RevisionFilter.Meta):
        model = BillOfMaterials


class RoutingFilter(RevisionFilter):
    class Meta(RevisionFilter.Meta):
        model = Routing


class WorkOrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=WorkOrderStatus.choices, help_text="Repeat for several.")
    due_before = django_filters.DateTimeFilter(field_name="due_at", lookup_expr="lt", label="Due strictly before (a date means its midnight)")
    due_after = django_filters.DateTimeFilter(field_name="due_at", lookup_expr="gte", label="Due at or after")

    class Meta:
        model = WorkOrder
        fields = ["status", "item", "number", "external_id", "bom", "routing"]


class OperationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OperationStatus.choices, help_text="Repeat for several.")

    class Meta:
        model = WorkOrderOperation
        fields = ["work_center", "status", "work_order"]
