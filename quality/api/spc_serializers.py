"""Serializers of the SPC endpoints: control charts, their points, limits and signals."""

from __future__ import annotations

from rest_framework import serializers

from quality.api.serializers import NonconformanceRefSerializer
from quality.models import SpcSignal


class SpcSignalSerializer(serializers.ModelSerializer):
    nonconformances = NonconformanceRefSerializer(many=True, read_only=True, source="nonconformances.all")

    class Meta:
        model = SpcSignal
        fields = [
            "id",
            "rule",
            "description",
            "point_index",
            "point_key",
            "measurement_ids",
            "value",
            "centre",
            "ucl",
            "lcl",
            "created_at",
            "handled",
            "handled_at",
            "nonconformances",
        ]
        read_only_fields = fields


class LimitsSerializer(serializers.Serializer):
    centre_line = serializers.FloatField()
    upper_control_limit = serializers.FloatField()
    lower_control_limit = serializers.FloatField()


class ChartPointSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    value = serializers.FloatField(help_text="Subgroup mean (X̄–R) or the individual value (I-MR).")
    spread = serializers.FloatField(allow_null=True, help_text="Subgroup range, or moving range (none for the first).")
    measurement_ids = serializers.ListField(child=serializers.IntegerField())
    inspections = serializers.ListField(child=serializers.IntegerField())
    recorded_at = serializers.DateTimeField()
    rules_broken = serializers.ListField(child=serializers.IntegerField())


class ViolationSerializer(serializers.Serializer):
    rule = serializers.IntegerField()
    index = serializers.IntegerField()
    description = serializers.CharField()


class SpcChartSerializer(serializers.Serializer):
    characteristic = serializers.IntegerField()
    name = serializers.CharField()
    plan = serializers.IntegerField()
    item = serializers.IntegerField()
    unit = serializers.CharField()
    chart_type = serializers.CharField()
    subgroup_size = serializers.IntegerField()
    nominal = serializers.FloatField(allow_null=True)
    lsl = serializers.FloatField(allow_null=True)
    usl = serializers.FloatField(allow_null=True)
    points = ChartPointSerializer(many=True)
    centre_line = serializers.FloatField(allow_null=True)
    upper_control_limit = serializers.FloatField(allow_null=True)
    lower_control_limit = serializers.FloatField(allow_null=True)
    spread_chart = LimitsSerializer(allow_null=True)
    sigma = serializers.FloatField(allow_null=True, help_text="Within-subgroup σ estimate (R̄/d2 or MR̄/d2).")
    limits_from_points = serializers.IntegerField(
        help_text="Points the limits were computed from: those already judged, less those that signalled."
    )
    violations = ViolationSerializer(many=True)
    cp = serializers.FloatField(allow_null=True)
    cpk = serializers.FloatField(allow_null=True)
    pp = serializers.FloatField(allow_null=True)
    ppk = serializers.FloatField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)
    sigma_overall = serializers.FloatField(allow_null=True)
    signals = SpcSignalSerializer(many=True)
    note = serializers.CharField(allow_blank=True)
