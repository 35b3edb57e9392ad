"""Serializers of the shop-floor API: operator actions, production reports, dispatch lists,
downtime. Shapes only; the rules are in ``orders.services``."""

from __future__ import annotations

from rest_framework import serializers

from orders.api.report_serializers import (  # noqa: F401 - the shop-floor API's serializers in one namespace
    ConsumedInputSerializer,
    ProductionReportInputSerializer,
    ReportConsumptionSerializer,
    ReportOutputSerializer,
    ReportMoveSerializer,
    ReportLinkSerializer,
    ProductionReportSerializer,
    ReversalInputSerializer,
    quantity,
    report_input,
)
from orders.models import (
    DowntimeEvent,
    DowntimeReason,
    OperationEvent,
    ScrapReason,
    WorkCenter,
)


# --- operator actions ---------------------------------------------------------------------------


class OperationActionSerializer(serializers.Serializer):
    recorded_at = serializers.DateTimeField(required=False, allow_null=True, help_text="The tablet's own time of the action.")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class OperationEventSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True, default=None)

    class Meta:
        model = OperationEvent
        fields = ["id", "operation", "action", "from_status", "to_status", "reason", "user", "username", "occurred_at", "recorded_at"]
        read_only_fields = fields


# --- dispatch list ------------------------------------------------------------------------------


class MaterialToScanSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    item_code = serializers.CharField()
    item_name = serializers.CharField()
    tracking = serializers.CharField(help_text="lot | serial: scan it; none: backflushed from the BOM quantity.")
    unit = serializers.CharField()
    quantity_required = quantity()
    quantity_issued = quantity()
    quantity_to_issue = quantity()
    backflushed = serializers.BooleanField()


class DispatchRowSerializer(serializers.Serializer):
    operation = serializers.IntegerField(source="operation.pk")
    sequence = serializers.IntegerField(source="operation.sequence")
    name = serializers.CharField(source="operation.name")
    status = serializers.CharField(source="operation.status")
    work_order = serializers.IntegerField(source="operation.work_order_id")
    work_order_number = serializers.CharField(source="operation.work_order.number")
    priority = serializers.IntegerField(source="operation.work_order.priority")
    due_at = serializers.DateTimeField(source="operation.work_order.due_at", allow_null=True)
    item = serializers.IntegerField(source="operation.work_order.item_id")
    item_code = serializers.CharField(source="operation.work_order.item.code")
    item_name = serializers.CharField(source="operation.work_order.item.name")
    tracking = serializers.CharField(source="operation.work_order.item.tracking")
    planned_start = serializers.DateTimeField(source="operation.planned_start", allow_null=True)
    planned_end = serializers.DateTimeField(source="operation.planned_end", allow_null=True)
    quantity_ordered = quantity(source="operation.work_order.quantity")
    quantity_good = quantity(source="operation.quantity_good")
    quantity_scrap = quantity(source="operation.quantity_scrap")
    quantity_left = quantity(help_text="Ordered − good so far.")
    quantity_available = quantity(
        allow_null=True, help_text="Units the previous operation has passed on and this one has not handled (null for the first)."
    )
    materials = MaterialToScanSerializer(many=True)


# --- reasons and downtime -----------------------------------------------------------------------


class ScrapReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScrapReason
        fields = ["id", "code", "name", "is_active"]
        read_only_fields = fields


class DowntimeReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = DowntimeReason
        fields = ["id", "code", "name", "is_planned", "is_active"]
        read_only_fields = fields


class DowntimeSerializer(serializers.ModelSerializer):
    work_center_code = serializers.CharField(source="work_center.code", read_only=True)
    reason = serializers.CharField(source="reason.code", read_only=True)
    reason_name = serializers.CharField(source="reason.name", read_only=True)
    is_planned = serializers.BooleanField(source="reason.is_planned", read_only=True)
    duration_minutes = serializers.FloatField(read_only=True, allow_null=True)
    opened_by = serializers.CharField(source="opened_by.username", read_only=True, default=None, allow_null=True)
    closed_by = serializers.CharField(source="closed_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = DowntimeEvent
        fields = [
            "id",
            "work_center",
            "work_center_code",
            "reason",
            "reason_name",
            "is_planned",
            "started_at",
            "ended_at",
            "duration_minutes",
            "note",
            "opened_by",
            "opened_at",
            "closed_by",
            "closed_at",
        ]
        read_only_fields = fields


class DowntimeInputSerializer(serializers.Serializer):
    work_center = serializers.PrimaryKeyRelatedField(queryset=WorkCenter.objects.all())
    reason = serializers.CharField(max_length=32, help_text="Downtime reason code.")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class DowntimeCloseSerializer(serializers.Serializer):
    ended_at = serializers.DateTimeField()
