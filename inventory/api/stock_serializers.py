"""Serializers of the stock API: lots, serials, moves, balances, reservations, holds, recalls."""

from rest_framework import serializers

from inventory.models import (
    Hold,
    Item,
    Location,
    Lot,
    RecallJob,
    Reservation,
    SerialNumber,
    StockBalance,
    StockMove,
)
from mes.quantities import QUANTITY_DIGITS, QUANTITY_PLACES


def quantity_field(**kwargs):
    return serializers.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, **kwargs)


class LotSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code", read_only=True)
    on_hand = quantity_field(read_only=True, help_text="Quantity in stock over all locations.")

    class Meta:
        model = Lot
        fields = ["id", "item", "item_code", "code", "status", "expires_on", "supplier_lot", "on_hand", "created_at"]
        read_only_fields = ["id", "item", "item_code", "code", "status", "on_hand", "created_at"]


class SerialNumberSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code", read_only=True)
    location = serializers.PrimaryKeyRelatedField(source="current_location", read_only=True)
    location_code = serializers.CharField(source="current_location.code", read_only=True, default=None)
    lot_code = serializers.CharField(source="lot.code", read_only=True, default=None)

    class Meta:
        model = SerialNumber
        fields = ["id", "item", "item_code", "code", "status", "location", "location_code", "lot", "lot_code", "created_at"]
        read_only_fields = fields


class StockMoveSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code", read_only=True)
    lot_code = serializers.CharField(source="lot.code", read_only=True, default=None)
    serial_code = serializers.CharField(source="serial.code", read_only=True, default=None)
    user = serializers.CharField(source="user.username", read_only=True, default=None)
    reversed_by = serializers.SerializerMethodField()

    class Meta:
        model = StockMove
        fields = [
            "id",
            "kind",
            "item",
            "item_code",
            "quantity",
            "from_location",
            "to_location",
            "lot",
            "lot_code",
            "serial",
            "serial_code",
            "reason",
            "reference",
            "user",
            "created_at",
            "reverses",
            "reversed_by",
            "reservation",
            "work_order_id",
            "operation_id",
            "document_type",
            "document_id",
        ]
        read_only_fields = fields

    def get_reversed_by(self, move) -> int | None:
        reversal = getattr(move, "reversed_by", None)
        return reversal.pk if reversal is not None else None


class StockBalanceSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    lot_code = serializers.CharField(source="lot.code", read_only=True, default=None)
    held = quantity_field(read_only=True, help_text="On hold or expired (lot on hold or expired, serials on hold).")
    available = quantity_field(
        read_only=True,
        help_text="quantity − reserved − held at this row. Reservations of a whole item (a work order's) "
        "are not pinned to a row: see GET /api/v1/stock/availability/.",
    )

    class Meta:
        model = StockBalance
        fields = ["id", "item", "item_code", "location", "location_code", "lot", "lot_code", "quantity", "reserved", "held", "available", "updated_at"]
        read_only_fields = fields


class ItemAvailabilitySerializer(serializers.Serializer):
    item = serializers.IntegerField()
    item_code = serializers.CharField()
    on_hand = quantity_field()
    reserved = quantity_field(help_text="Open reservations, pinned or for the whole item.")
    available = quantity_field(help_text="On hand − held − reserved, over all locations.")


class ReservationSerializer(serializers.ModelSerializer):
    remaining = quantity_field(read_only=True)

    class Meta:
        model = Reservation
        fields = [
            "id",
            "item",
            "lot",
            "location",
            "quantity",
            "quantity_consumed",
            "quantity_released",
            "remaining",
            "status",
            "demand_type",
            "demand_id",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields


class HoldSerializer(serializers.ModelSerializer):
    lot = serializers.PrimaryKeyRelatedField(queryset=Lot.objects.all(), required=False, allow_null=True)
    serial = serializers.PrimaryKeyRelatedField(queryset=SerialNumber.objects.all(), required=False, allow_null=True)
    code = serializers.SerializerMethodField()
    placed_by = serializers.CharField(source="placed_by.username", read_only=True, default=None)
    released_by = serializers.CharField(source="released_by.username", read_only=True, default=None)

    class Meta:
        model = Hold
        fields = [
            "id",
            "lot",
            "serial",
            "code",
            "reason",
            "status",
            "placed_by",
            "placed_at",
            "released_by",
            "released_at",
            "release_reason",
            "source_type",
            "source_id",
        ]
        read_only_fields = ["id", "code", "status", "placed_by", "placed_at", "released_by", "released_at", "release_reason"]
        extra_kwargs = {"source_type": {"required": False}, "source_id": {"required": False}}

    def get_code(self, hold) -> str:
        return (hold.lot or hold.serial).code

    def validate(self, attrs):
        if bool(attrs.get("lot")) == bool(attrs.get("serial")):
            raise serializers.ValidationError({"lot": "Give either a lot or a serial number."})
        return attrs


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class _StockInput(serializers.Serializer):
    item = serializers.PrimaryKeyRelatedField(queryset=Item.objects.select_related("unit"))
    lot_code = serializers.CharField(max_length=64, required=False, allow_blank=True)
    serial_codes = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=10000)


class ReceiptInputSerializer(_StockInput):
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    quantity = quantity_field()
    unit = serializers.CharField(max_length=16, required=False, help_text="When given, must be the item's unit.")
    expires_on = serializers.DateField(required=False, allow_null=True)
    supplier_lot = serializers.CharField(max_length=64, required=False, allow_blank=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class TransferInputSerializer(_StockInput):
    from_location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    to_location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    quantity = quantity_field()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class AdjustmentInputSerializer(_StockInput):
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    quantity = quantity_field(help_text="Signed: positive when stock was found, negative when missing.")
    reason = serializers.CharField(max_length=200)
    expires_on = serializers.DateField(required=False, allow_null=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class IssueInputSerializer(_StockInput):
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    quantity = quantity_field()
    work_order_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    operation_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ScrapInputSerializer(_StockInput):
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all())
    quantity = quantity_field()
    reason = serializers.CharField(max_length=200)
    work_order_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class MovesOutputSerializer(serializers.Serializer):
    moves = StockMoveSerializer(many=True)


class RecallInputSerializer(serializers.Serializer):
    lot = serializers.CharField(max_length=64, required=False, help_text="Lot code (with item).")
    item = serializers.PrimaryKeyRelatedField(queryset=Item.objects.all(), required=False)
    serial = serializers.CharField(max_length=64, required=False, help_text="Serial code.")
    reason = serializers.CharField(max_length=500)
    place_holds = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if bool(attrs.get("lot")) == bool(attrs.get("serial")):
            raise serializers.ValidationError({"lot": "Give either a lot (with its item) or a serial number."})
        return attrs


class RecallJobSerializer(serializers.ModelSerializer):
    lot_code = serializers.CharField(source="lot.code", read_only=True, default=None)
    serial_code = serializers.CharField(source="serial.code", read_only=True, default=None)
    started_by = serializers.CharField(source="started_by.username", read_only=True, default=None)
    report_csv = serializers.SerializerMethodField()
    affected = serializers.SerializerMethodField(help_text="Every affected end product: type, id, code, item, status, location.")

    class Meta:
        model = RecallJob
        fields = [
            "id",
            "lot",
            "lot_code",
            "serial",
            "serial_code",
            "reason",
            "place_holds",
            "status",
            "progress",
            "affected_count",
            "holds_placed",
            "error",
            "started_by",
            "created_at",
            "started_at",
            "finished_at",
            "report_csv",
            "affected",
        ]
        read_only_fields = fields

    def get_report_csv(self, job) -> str:
        return f"/api/v1/recalls/{job.pk}/report.csv"

    def get_affected(self, job) -> list[dict]:
        from inventory.services.recall import report_as_dicts

        return report_as_dicts(job.report)


class RecallJobListSerializer(RecallJobSerializer):
    affected = None

    class Meta(RecallJobSerializer.Meta):
        fields = [f for f in RecallJobSerializer.Meta.fields if f != "affected"]
        read_only_fields = fields
