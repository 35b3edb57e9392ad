"""Serializers of the quality API: shapes only; the rules live in the services."""

from __future__ import annotations

from rest_framework import serializers

from inventory.models import Item, Location, Lot, SerialNumber
from mes.api.signatures import SignatureSerializer, SignedInputSerializer
from mes.quantities import QUANTITY_DIGITS, QUANTITY_PLACES
from mes.signatures import signatures_of
from quality.models import (
    Characteristic,
    Disposition,
    Inspection,
    InspectionPlan,
    Measurement,
    Nonconformance,
    NonconformanceEvent,
    SamplingState,
)
from quality.models.plans import SPEC_DIGITS, SPEC_PLACES


def spec_field(**kwargs):
    return serializers.DecimalField(max_digits=SPEC_DIGITS, decimal_places=SPEC_PLACES, **kwargs)


def quantity_field(**kwargs):
    return serializers.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, **kwargs)


class CharacteristicSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(
        required=False, help_text="To keep an existing characteristic (and its measurements) under a new name."
    )
    position = serializers.IntegerField(required=False, min_value=0)
    nominal = spec_field(required=False, allow_null=True)
    lsl = spec_field(required=False, allow_null=True, help_text="Lower specification limit.")
    usl = spec_field(required=False, allow_null=True, help_text="Upper specification limit.")

    class Meta:
        model = Characteristic
        fields = ["id", "position", "name", "kind", "nominal", "lsl", "usl", "unit", "chart_type", "subgroup_size"]
        validators = []
        extra_kwargs = {"name": {"validators": []}}


class SamplingStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = SamplingState
        fields = [
            "item",
            "severity",
            "consecutive_accepted",
            "recent_results",
            "switching_score",
            "tightened_rejected_count",
            "discontinued",
            "lots_inspected",
            "updated_at",
        ]
        read_only_fields = fields


class InspectionPlanSerializer(serializers.ModelSerializer):
    item = serializers.PrimaryKeyRelatedField(queryset=Item.objects.all())
    item_code = serializers.CharField(source="item.code", read_only=True)
    aql = serializers.DecimalField(
        max_digits=7, decimal_places=3, help_text="Acceptance quality limit, a preferred value of ISO 2859-1 (e.g. 1.0)."
    )
    inspection_level = serializers.CharField(max_length=4, default="II", help_text="S-1, S-2, S-3, S-4, I, II or III.")
    characteristics = CharacteristicSerializer(
        many=True, help_text="All characteristics; an update replaces the list at once (matched by id, else by name)."
    )
    sampling_states = SamplingStateSerializer(
        many=True, read_only=True, help_text="Where the switching rules stand (normal, tightened, reduced)."
    )

    class Meta:
        model = InspectionPlan
        fields = [
            "id",
            "item",
            "item_code",
            "name",
            "revision",
            "description",
            "trigger",
            "routing_operation_sequence",
            "aql",
            "inspection_level",
            "reduced_inspection_allowed",
            "hold_on_spc_violation",
            "is_active",
            "characteristics",
            "sampling_states",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []


class ResumeSamplingSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="The corrective action taken.")


class MeasurementSerializer(serializers.ModelSerializer):
    characteristic_name = serializers.CharField(source="characteristic.name", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True, default=None)

    class Meta:
        model = Measurement
        fields = [
            "id",
            "characteristic",
            "characteristic_name",
            "sample_index",
            "value",
            "passed",
            "in_spec",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class MeasurementInputSerializer(serializers.Serializer):
    characteristic = serializers.IntegerField(help_text="Id of a characteristic of the inspection's plan.")
    sample_index = serializers.IntegerField(help_text="The sampled unit, 1 … sample size.")
    value = serializers.DecimalField(
        max_digits=30, decimal_places=12, required=False, allow_null=True, help_text="For a variable characteristic."
    )
    passed = serializers.BooleanField(required=False, allow_null=True, help_text="For an attribute characteristic.")


class MeasurementsInputSerializer(serializers.Serializer):
    measurements = MeasurementInputSerializer(many=True)


class _Ref(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()


class NonconformanceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class InspectionSerializer(serializers.ModelSerializer):
    plan_name = serializers.CharField(source="plan.name", read_only=True)
    item_code = serializers.CharField(source="item.code", read_only=True)
    lot_code = serializers.CharField(source="lot.code", read_only=True, default=None)
    serial_code = serializers.CharField(source="serial.code", read_only=True, default=None)
    serials = _Ref(many=True, read_only=True, source="serials.all", help_text="The serials of a batch inspected as one lot.")
    operation = serializers.IntegerField(source="operation_id", read_only=True, allow_null=True)
    work_order = serializers.IntegerField(source="work_order_id", read_only=True, allow_null=True)
    measurement_count = serializers.IntegerField(read_only=True)
    nonconformances = NonconformanceRefSerializer(many=True, read_only=True, source="nonconformances.all")
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)

    class Meta:
        model = Inspection
        fields = [
            "id",
            "plan",
            "plan_name",
            "item",
            "item_code",
            "source",
            "lot",
            "lot_code",
            "serial",
            "serial_code",
            "serials",
            "location",
            "operation",
            "work_order",
            "source_document",
            "reference",
            "lot_size",
            "aql",
            "inspection_level",
            "severity",
            "code_letter",
            "sample_size",
            "acceptance_number",
            "rejection_number",
            "full_inspection",
            "is_resubmission",
            "status",
            "disposition",
            "nonconforming_count",
            "measurement_count",
            "nonconformances",
            "created_by",
            "created_at",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields


class InspectionDetailSerializer(InspectionSerializer):
    measurements = MeasurementSerializer(many=True, read_only=True, source="measurements.all")

    class Meta(InspectionSerializer.Meta):
        fields = [*InspectionSerializer.Meta.fields, "measurements"]
        read_only_fields = fields


class InspectionCreateSerializer(serializers.Serializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=InspectionPlan.objects.select_related("item"))
    lot = serializers.PrimaryKeyRelatedField(queryset=Lot.objects.all(), required=False, allow_null=True)
    serial = serializers.PrimaryKeyRelatedField(queryset=SerialNumber.objects.all(), required=False, allow_null=True)
    operation = serializers.IntegerField(required=False, allow_null=True, help_text="A work order operation id.")
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False, allow_null=True)
    lot_size = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Default: the lot's stock, or 1 for a serial."
    )
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    is_resubmission = serializers.BooleanField(required=False, default=False)


class HoldRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lot = serializers.IntegerField(source="lot_id", allow_null=True)
    lot_code = serializers.CharField(source="lot.code", default=None)
    serial = serializers.IntegerField(source="serial_id", allow_null=True)
    serial_code = serializers.CharField(source="serial.code", default=None)
    status = serializers.CharField()


class NonconformanceEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True, default=None)

    class Meta:
        model = NonconformanceEvent
        fields = ["from_status", "to_status", "disposition", "note", "details", "user", "occurred_at"]
        read_only_fields = fields


class NonconformanceSerializer(serializers.ModelSerializer):
    item_code = serializers.CharField(source="item.code", read_only=True)
    lot_code = serializers.CharField(source="lot.code", read_only=True, default=None)
    serial_code = serializers.CharField(source="serial.code", read_only=True, default=None)
    serials = _Ref(many=True, read_only=True, source="serials.all")
    holds = HoldRefSerializer(many=True, read_only=True, source="holds.all")
    opened_by = serializers.CharField(source="opened_by.username", read_only=True, default=None)
    dispositioned_by = serializers.CharField(source="dispositioned_by.username", read_only=True, default=None)
    closed_by = serializers.CharField(source="closed_by.username", read_only=True, default=None)

    class Meta:
        model = Nonconformance
        fields = [
            "id",
            "number",
            "item",
            "item_code",
            "inspection",
            "spc_signal",
            "lot",
            "lot_code",
            "serial",
            "serial_code",
            "serials",
            "location",
            "quantity",
            "description",
            "disposition",
            "disposition_note",
            "status",
            "holds",
            "returned_to",
            "opened_by",
            "opened_at",
            "dispositioned_by",
            "dispositioned_at",
            "closed_by",
            "closed_at",
        ]
        read_only_fields = fields


class NonconformanceDetailSerializer(NonconformanceSerializer):
    events = NonconformanceEventSerializer(many=True, read_only=True, source="events.all")
    signatures = serializers.SerializerMethodField(help_text="Electronic signatures of its disposition and closing.")

    class Meta(NonconformanceSerializer.Meta):
        fields = [*NonconformanceSerializer.Meta.fields, "events", "signatures"]
        read_only_fields = fields

    def get_signatures(self, ncr) -> SignatureSerializer(many=True):
        return SignatureSerializer(signatures_of(record_type="nonconformance", record_id=ncr.pk), many=True).data


class NonconformanceCreateSerializer(serializers.Serializer):
    inspection = serializers.PrimaryKeyRelatedField(
        queryset=Inspection.objects.select_related("item"), required=False, allow_null=True
    )
    item = serializers.PrimaryKeyRelatedField(queryset=Item.objects.all(), required=False, allow_null=True)
    lot = serializers.PrimaryKeyRelatedField(queryset=Lot.objects.select_related("item"), required=False, allow_null=True)
    serial = serializers.PrimaryKeyRelatedField(
        queryset=SerialNumber.objects.select_related("item"), required=False, allow_null=True
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True, help_text="Where untracked material is."
    )
    quantity = quantity_field(required=False, allow_null=True, help_text="Default: the inspected lot size or the stock.")
    description = serializers.CharField()
    hold = serializers.BooleanField(default=True, help_text="Hold the lot or serial (default true).")


class DispositionSerializer(SignedInputSerializer):
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(),
        required=False,
        allow_null=True,
        help_text="For return_to_supplier: the supplier location (default: the first one).",
    )


class CloseSerializer(SignedInputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
