"""Serializers of the orders API: validate shapes, never business rules (those are services)."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from inventory.models import Item
from orders.api.fields import BulkPrimaryKeyRelatedField, PrefetchingListSerializer
from orders.models import (
    BillOfMaterials,
    BOMLine,
    Calendar,
    CalendarException,
    Routing,
    RoutingOperation,
    Shift,
    WorkCenter,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderOperation,
    WorkOrderStatus,
)

# --- work centers and calendars ----------------------------------------------------------------


class WorkCenterSerializer(serializers.ModelSerializer):
    calendar_code = serializers.CharField(source="calendar.code", read_only=True, default=None, allow_null=True)

    class Meta:
        model = WorkCenter
        fields = [
            "id",
            "code",
            "name",
            "capacity",
            "calendar",
            "calendar_code",
            "allow_split_across_breaks",
            "cost_per_hour",
            "external_id",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class ShiftSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shift
        fields = ["id", "weekday", "start", "end", "name"]
        read_only_fields = ["id"]
        validators = []


class CalendarExceptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarException
        fields = ["id", "kind", "date", "end_date", "starts_at", "ends_at", "reason"]
        read_only_fields = ["id"]


class CalendarSerializer(serializers.ModelSerializer):
    shifts = ShiftSerializer(many=True, required=False, help_text="Weekly shifts; replaced as a whole when given.")
    exceptions = CalendarExceptionSerializer(
        many=True, required=False, help_text="Dated exceptions (closed or extra); replaced as a whole when given."
    )

    class Meta:
        model = Calendar
        fields = ["id", "code", "name", "timezone", "external_id", "shifts", "exceptions", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


# --- BOMs and routings -------------------------------------------------------------------------


class BOMLineSerializer(serializers.ModelSerializer):
    component = BulkPrimaryKeyRelatedField(queryset=Item.objects.all())
    component_code = serializers.CharField(source="component.code", read_only=True)
    unit = serializers.CharField(
        source="unit_id", required=False, allow_blank=True, help_text="Must be the component's unit; default: it."
    )
    position = serializers.IntegerField(required=False, min_value=0)

    class Meta:
        model = BOMLine
        list_serializer_class = PrefetchingListSerializer
        fields = [
            "id",
            "position",
            "component",
            "component_code",
            "quantity",
            "unit",
            "scrap_factor",
            "operation_sequence",
            "is_phantom",
        ]
        read_only_fields = ["id"]


class BOMSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code", read_only=True)
    lines = BOMLineSerializer(many=True, help_text="All lines; an update replaces them at once.")

    class Meta:
        model = BillOfMaterials
        fields = [
            "id",
            "item",
            "item_code",
            "revision",
            "status",
            "effective_from",
            "effective_to",
            "description",
            "external_id",
            "lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class RoutingOperationSerializer(serializers.ModelSerializer):
    work_center = BulkPrimaryKeyRelatedField(queryset=WorkCenter.objects.all())
    work_center_code = serializers.CharField(source="work_center.code", read_only=True)

    class Meta:
        model = RoutingOperation
        list_serializer_class = PrefetchingListSerializer
        fields = ["id", "sequence", "name", "work_center", "work_center_code", "setup_minutes", "run_minutes_per_unit"]
        read_only_fields = ["id"]
        validators = []


class RoutingSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code", read_only=True)
    operations = RoutingOperationSerializer(many=True, help_text="All operations; an update replaces them at once.")

    class Meta:
        model = Routing
        fields = [
            "id",
            "item",
            "item_code",
            "revision",
            "status",
            "effective_from",
            "effective_to",
            "description",
            "external_id",
            "operations",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class ExplosionQuerySerializer(serializers.Serializer):
    quantity = serializers.DecimalField(max_digits=18, decimal_places=3, min_value=Decimal("0.001"), default=Decimal("1"))
    on = serializers.DateField(required=False, help_text="Sub-assembly revisions in effect on this day (default today).")
    single_level = serializers.BooleanField(default=False, help_text="Only this BOM's own components (phantoms resolved).")


class ExplosionLineSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    path = serializers.ListField(child=serializers.CharField(), help_text="Item codes from the top item down.")
    parent_item = serializers.IntegerField()
    parent_item_code = serializers.CharField()
    component = serializers.IntegerField()
    component_code = serializers.CharField()
    component_name = serializers.CharField()
    unit = serializers.CharField()
    quantity_per = serializers.DecimalField(max_digits=None, decimal_places=3)
    scrap_factor = serializers.DecimalField(max_digits=6, decimal_places=4)
    quantity = serializers.DecimalField(max_digits=None, decimal_places=3, help_text="Required for the whole quantity.")
    operation_sequence = serializers.IntegerField(allow_null=True)
    via_phantom = serializers.CharField(allow_null=True, help_text="The phantom this requirement comes through.")
    has_bom = serializers.BooleanField(help_text="A sub-assembly exploded further below.")


class RequirementSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    item_code = serializers.CharField()
    unit = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=None, decimal_places=3)


class ExplosionSerializer(serializers.Serializer):
    bom = serializers.IntegerField(source="bom.pk")
    item = serializers.IntegerField(source="bom.item_id")
    item_code = serializers.CharField(source="bom.item.code")
    revision = serializers.CharField(source="bom.revision")
    quantity = serializers.DecimalField(max_digits=18, decimal_places=3)
    on = serializers.DateField()
    lines = ExplosionLineSerializer(many=True)
    requirements = RequirementSerializer(many=True, help_text="Totals of the bought (bottom-level) components.")


class WhereUsedSerializer(serializers.Serializer):
    level = serializers.IntegerField(help_text="1: used directly; 2: in a parent of a parent; …")
    path = serializers.ListField(child=serializers.CharField(), help_text="Item codes from this item up.")
    bom = serializers.IntegerField()
    bom_revision = serializers.CharField()
    bom_status = serializers.CharField()
    effective_from = serializers.DateField(allow_null=True)
    effective_to = serializers.DateField(allow_null=True)
    parent_item = serializers.IntegerField()
    parent_item_code = serializers.CharField()
    parent_item_name = serializers.CharField()
    component = serializers.IntegerField()
    component_code = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=18, decimal_places=3)
    unit = serializers.CharField()
    is_phantom = serializers.BooleanField()
    operation_sequence = serializers.IntegerField(allow_null=True)


# --- work orders -------------------------------------------------------------------------------


class WorkOrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField(max_length=32, required=False, allow_blank=True, help_text="Generated when empty.")
    item_code = serializers.CharField(source="item.code", read_only=True)
    bom_revision = serializers.CharField(source="bom.revision", read_only=True, default=None, allow_null=True)
    routing_revision = serializers.CharField(source="routing.revision", read_only=True, default=None, allow_null=True)

    class Meta:
        model = WorkOrder
        fields = [
            "id",
            "number",
            "item",
            "item_code",
            "quantity",
            "due_at",
            "priority",
            "status",
            "external_id",
            "bom",
            "bom_revision",
            "routing",
            "routing_revision",
            "release_time",
            "released_at",
            "released_by",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "released_at", "released_by", "created_at", "updated_at"]


class WorkOrderOperationSerializer(serializers.ModelSerializer):
    work_order_number = serializers.CharField(source="work_order.number", read_only=True)
    item = serializers.IntegerField(source="work_order.item_id", read_only=True)
    item_code = serializers.CharField(source="work_order.item.code", read_only=True)
    work_center_code = serializers.CharField(source="work_center.code", read_only=True)

    class Meta:
        model = WorkOrderOperation
        fields = [
            "id",
            "work_order",
            "work_order_number",
            "item",
            "item_code",
            "sequence",
            "name",
            "work_center",
            "work_center_code",
            "status",
            "setup_minutes",
            "run_minutes_per_unit",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "quantity_good",
            "quantity_scrap",
        ]
        read_only_fields = fields


class NestedOperationSerializer(serializers.ModelSerializer):
    work_center_code = serializers.CharField(source="work_center.code", read_only=True)

    class Meta:
        model = WorkOrderOperation
        fields = [
            "id",
            "sequence",
            "name",
            "work_center",
            "work_center_code",
            "status",
            "setup_minutes",
            "run_minutes_per_unit",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "quantity_good",
            "quantity_scrap",
        ]
        read_only_fields = fields


class WorkOrderMaterialSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code", read_only=True)
    unit = serializers.CharField(source="item.unit_id", read_only=True)

    class Meta:
        model = WorkOrderMaterial
        fields = [
            "id",
            "item",
            "item_code",
            "unit",
            "operation_sequence",
            "quantity_required",
            "quantity_reserved",
            "quantity_issued",
            "reservation_id",
        ]
        read_only_fields = fields


class WorkOrderDetailSerializer(WorkOrderSerializer):
    held_from = serializers.ChoiceField(
        choices=WorkOrderStatus.choices, allow_blank=True, read_only=True, help_text="While on hold: the state resume returns to."
    )
    operations = NestedOperationSerializer(many=True, read_only=True)
    materials = WorkOrderMaterialSerializer(many=True, read_only=True)

    class Meta(WorkOrderSerializer.Meta):
        fields = [*WorkOrderSerializer.Meta.fields, "held_from", "operations", "materials"]
        read_only_fields = [*WorkOrderSerializer.Meta.read_only_fields, "held_from"]


class ShortageSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    item_code = serializers.CharField()
    required = serializers.DecimalField(max_digits=None, decimal_places=3)
    available = serializers.DecimalField(max_digits=None, decimal_places=3)
    shortage = serializers.DecimalField(max_digits=None, decimal_places=3)


class ReleaseResultSerializer(WorkOrderDetailSerializer):
    shortages = ShortageSerializer(many=True, read_only=True, help_text="Material still missing (allow_shortage).")

    class Meta(WorkOrderDetailSerializer.Meta):
        fields = [*WorkOrderDetailSerializer.Meta.fields, "shortages"]


class ReleaseInputSerializer(serializers.Serializer):
    allow_shortage = serializers.BooleanField(
        default=False, help_text="Release although material is short: reserve what is available, report the rest."
    )


class TransitionInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
