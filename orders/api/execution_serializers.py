"""Serializers of the shop-floor API: operator actions, production reports, dispatch lists,
downtime. Shapes only; the rules are in ``orders.services``."""

from __future__ import annotations

from rest_framework import serializers

from orders.models import (
    DowntimeEvent,
    DowntimeReason,
    OperationEvent,
    ProductionReport,
    ScrapReason,
    WorkCenter,
)


def quantity(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=3, **kwargs)


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


# --- production reports -------------------------------------------------------------------------


class ConsumedInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, help_text="Component item id (from the order's requirements for this operation).")
    lot = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64, help_text="Lot code, as scanned.")
    serial = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64, help_text="Serial code, as scanned.")
    quantity = quantity(required=False, allow_null=True, min_value=0, help_text="Defaults to 1 for a serial.")
    produced_serial = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=64,
        help_text="Which produced serial this consumed serial went into (default: pairs in listing order).",
    )


class ProductionReportInputSerializer(serializers.Serializer):
    quantity_good = quantity(min_value=0)
    quantity_scrap = quantity(min_value=0, required=False, default=0)
    scrap_reason = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=32, help_text="Scrap reason code.")
    consumed = ConsumedInputSerializer(many=True, required=False, default=list, max_length=1000)
    produced_serials = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        max_length=10000,
        help_text="First operation: new serial numbers, one per good unit. Later operations: the serials of this "
        "order passed on as good here.",
    )
    scrapped_serials = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        max_length=10000,
        help_text="Later operations of a serial-tracked product: the serials scrapped here, one per scrapped unit.",
    )
    produced_lot_code = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)
    labor_minutes = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True)
    recorded_at = serializers.DateTimeField(required=False, allow_null=True, help_text="The tablet's own time of the report.")


class ReportConsumptionSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="item_id")
    item_code = serializers.CharField(source="item.code")
    lot = serializers.IntegerField(source="lot_id", allow_null=True)
    lot_code = serializers.CharField(source="lot.code", default=None, allow_null=True)
    serial = serializers.IntegerField(source="serial_id", allow_null=True)
    serial_code = serializers.CharField(source="serial.code", default=None, allow_null=True)
    location = serializers.IntegerField(source="location_id")
    quantity = quantity()
    backflushed = serializers.BooleanField()
    move = serializers.IntegerField(source="move_id")


class ReportOutputSerializer(serializers.Serializer):
    action = serializers.CharField()
    item = serializers.IntegerField(source="item_id")
    lot = serializers.IntegerField(source="lot_id", allow_null=True)
    lot_code = serializers.CharField(source="lot.code", default=None, allow_null=True)
    serial = serializers.IntegerField(source="serial_id", allow_null=True)
    serial_code = serializers.CharField(source="serial.code", default=None, allow_null=True)
    location = serializers.IntegerField(source="location_id", allow_null=True)
    quantity = quantity()
    move = serializers.IntegerField(source="move_id", allow_null=True)


class ReportMoveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    item = serializers.IntegerField(source="item_id")
    quantity = quantity()
    from_location = serializers.IntegerField(source="from_location_id", allow_null=True)
    to_location = serializers.IntegerField(source="to_location_id", allow_null=True)
    lot = serializers.IntegerField(source="lot_id", allow_null=True)
    serial = serializers.IntegerField(source="serial_id", allow_null=True)
    reservation = serializers.IntegerField(source="reservation_id", allow_null=True)
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ReportLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    consumed_lot = serializers.IntegerField(source="consumed_lot_id", allow_null=True)
    consumed_serial = serializers.IntegerField(source="consumed_serial_id", allow_null=True)
    produced_lot = serializers.IntegerField(source="produced_lot_id", allow_null=True)
    produced_serial = serializers.IntegerField(source="produced_serial_id", allow_null=True)
    quantity = quantity()
    reversed = serializers.BooleanField()


class ProductionReportSerializer(serializers.ModelSerializer):
    operation_sequence = serializers.IntegerField(source="operation.sequence", read_only=True)
    work_order_number = serializers.CharField(source="work_order.number", read_only=True)
    item = serializers.IntegerField(source="work_order.item_id", read_only=True)
    scrap_reason = serializers.CharField(source="scrap_reason.code", read_only=True, default=None, allow_null=True)
    username = serializers.CharField(source="user.username", read_only=True, default=None, allow_null=True)
    reversed_by = serializers.SerializerMethodField()
    consumed = serializers.SerializerMethodField()
    produced = serializers.SerializerMethodField()
    moves = serializers.SerializerMethodField()
    genealogy_links = serializers.SerializerMethodField()

    class Meta:
        model = ProductionReport
        fields = [
            "id",
            "kind",
            "operation",
            "operation_sequence",
            "work_order",
            "work_order_number",
            "item",
            "quantity_good",
            "quantity_scrap",
            "scrap_reason",
            "labor_minutes",
            "user",
            "username",
            "created_at",
            "recorded_at",
            "reverses",
            "reversed_by",
            "reason",
            "consumed",
            "produced",
            "moves",
            "genealogy_links",
        ]
        read_only_fields = fields

    @staticmethod
    def _consumption(report):
        rows = getattr(report, "_consumption", None)
        return rows if rows is not None else list(report.consumed.all())

    @staticmethod
    def _outputs(report):
        rows = getattr(report, "_outputs", None)
        return rows if rows is not None else list(report.outputs.all())

    def get_reversed_by(self, report) -> int | None:
        if getattr(report, "_links", None) is not None:
            return None  # just made: nothing reverses it yet
        try:
            return report.reversed_by.pk
        except ProductionReport.DoesNotExist:
            return None

    def get_consumed(self, report) -> ReportConsumptionSerializer(many=True):
        return ReportConsumptionSerializer(self._consumption(report), many=True).data

    def get_produced(self, report) -> ReportOutputSerializer(many=True):
        return ReportOutputSerializer(self._outputs(report), many=True).data

    def get_moves(self, report) -> ReportMoveSerializer(many=True):
        moves = [row.move for row in self._consumption(report)] + [row.move for row in self._outputs(report) if row.move_id]
        return ReportMoveSerializer(sorted(moves, key=lambda m: m.pk), many=True).data

    def get_genealogy_links(self, report) -> ReportLinkSerializer(many=True):
        fresh = getattr(report, "_links", None)
        if fresh is not None:
            rows = [{**_link_row(link), "reversed": False} for link in fresh]
        else:
            rows = [{**_link_row(row.link), "reversed": row.reversed_at is not None} for row in report.genealogy.all()]
        return ReportLinkSerializer(rows, many=True).data


def _link_row(link) -> dict:
    return {
        "id": link.pk,
        "consumed_lot_id": link.consumed_lot_id,
        "consumed_serial_id": link.consumed_serial_id,
        "produced_lot_id": link.produced_lot_id,
        "produced_serial_id": link.produced_serial_id,
        "quantity": link.quantity,
    }


class ReversalInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the report was wrong.")
    recorded_at = serializers.DateTimeField(required=False, allow_null=True)


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
