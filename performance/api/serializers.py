"""Shapes of the performance API: query parameters and the figures returned."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from rest_framework import serializers

from orders.models import WorkCenter

MAX_RANGE = dt.timedelta(days=400)
_SPACE_OFFSET = re.compile(r"([T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


def quantity(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=3, **kwargs)


def ratio(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


def minutes(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(help_text=help_text)


class MomentField(serializers.DateTimeField):
    """An ISO 8601 date-time; a bare date means its midnight (server time zone)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and _SPACE_OFFSET.search(value):
            value = _SPACE_OFFSET.sub(r"\1+\2", value)  # an unescaped "+" of a query string arrives as a space
        if isinstance(value, str) and len(value.strip()) == 10:
            day = serializers.DateField().to_internal_value(value.strip())
            return timezone.make_aware(dt.datetime.combine(day, dt.time(0)))
        return super().to_internal_value(value)


class RangeQuerySerializer(serializers.Serializer):
    start = MomentField(help_text="Start of the range (ISO 8601 date-time with zone, or a date meaning its midnight).")
    end = MomentField(help_text="End of the range, exclusive. A range that has not ended is measured up to now.")

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "end must be after start."}, code="range_empty")
        if attrs["end"] - attrs["start"] > MAX_RANGE:
            raise serializers.ValidationError({"end": f"A range is at most {MAX_RANGE.days} days."}, code="range_too_long")
        return attrs


class OEEQuerySerializer(RangeQuerySerializer):
    work_center = serializers.PrimaryKeyRelatedField(
        queryset=WorkCenter.objects.all(), help_text="Work center id.", error_messages={"does_not_exist": "There is no work center {pk_value}."}
    )
    group_by = serializers.ChoiceField(
        choices=["shift", "day"],
        required=False,
        allow_blank=True,
        help_text="Also break the figures down per shift, or per production day (the shifts that start on that day).",
    )


class FiguresSerializer(serializers.Serializer):
    availability = ratio("Run time / planned busy time (APT / PBT); null without planned busy time.")
    performance = ratio("Ideal time / run time; null without run time. Above 1 when the routing's run time is slower than the floor.")
    quality = ratio("Good / produced (GQ / PQ); null when nothing was produced.")
    oee = ratio("Availability × performance × quality; 0 when availability or performance is 0, null without planned busy time.")
    operating_time_minutes = minutes("Working time of the calendar (always open without one).")
    planned_downtime_minutes = minutes("Stops with a planned reason (breaks, planned maintenance) in the working time.")
    planned_busy_minutes = minutes("Planned busy time (PBT) = operating time − planned downtime.")
    downtime_minutes = minutes("Unplanned downtime within the planned busy time.")
    run_time_minutes = minutes("Actual production time (APT) = planned busy time − downtime.")
    ideal_time_minutes = minutes("Σ routing run minutes per unit × units handled, ÷ capacity.")
    ideal_cycle_minutes = serializers.FloatField(allow_null=True, help_text="Ideal minutes per unit at one station, weighted by units.")
    capacity = serializers.IntegerField(help_text="Parallel units of the work center.")
    produced_quantity = quantity(help_text="Good + scrap (PQ).")
    good_quantity = quantity(help_text="GQ.")
    scrap_quantity = quantity()
    reports = serializers.IntegerField(help_text="Production reports counted.")


class PeriodFiguresSerializer(FiguresSerializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    label = serializers.CharField(help_text="Shift name, or the day.")
    kind = serializers.CharField(help_text="shift | off_shift | block | day")
    day = serializers.DateField(help_text="Production day: the local date the shift starts on.")


class OEESerializer(FiguresSerializer):
    work_center = serializers.IntegerField()
    work_center_code = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    measured_until = serializers.DateTimeField(help_text="The end, or now when the range has not ended.")
    rolled_up_shifts = serializers.IntegerField(help_text="Shifts answered from their roll-up.")
    live_ranges = serializers.IntegerField(help_text="Pieces computed from the records (open shift, edges of the range).")
    periods = PeriodFiguresSerializer(many=True, required=False, help_text="With group_by only.")


class ScrapReasonRateSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    quantity = quantity()
    rate = serializers.FloatField(allow_null=True, help_text="Of everything produced.")
    share = serializers.FloatField(allow_null=True, help_text="Of all scrap.")


class ScrapSerializer(serializers.Serializer):
    produced_quantity = quantity()
    scrap_quantity = quantity()
    rate = serializers.FloatField(allow_null=True)
    by_reason = ScrapReasonRateSerializer(many=True)


class ThroughputSerializer(serializers.Serializer):
    finished_quantity = quantity(help_text="Good units of last operations.")
    per_hour = serializers.FloatField(allow_null=True)


class FirstPassYieldSerializer(serializers.Serializer):
    work_orders = serializers.IntegerField(help_text="Work orders completed in the range.")
    started_quantity = quantity(help_text="Units into their first operations (good + scrap).")
    finished_good_quantity = quantity(help_text="Good units out of their last operations.")
    rate = serializers.FloatField(allow_null=True)


class LateOrderSerializer(serializers.Serializer):
    work_order = serializers.IntegerField()
    number = serializers.CharField()
    due_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField()


class OnTimeSerializer(serializers.Serializer):
    completed = serializers.IntegerField()
    with_due_date = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="On time / completed with a due date.")
    late_orders = LateOrderSerializer(many=True)


class WorkCenterKPISerializer(serializers.Serializer):
    work_center = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    good_quantity = quantity()
    scrap_quantity = quantity()
    produced_quantity = quantity()
    reports = serializers.IntegerField()
    throughput_per_hour = serializers.FloatField(allow_null=True, help_text="Good units per hour of the range.")
    first_pass_yield = serializers.FloatField(allow_null=True)
    scrap_rate = serializers.FloatField(allow_null=True)
    wip_quantity = quantity(help_text="Now: what open orders still have to do here.")
    wip_operations = serializers.IntegerField()
    wip_running = serializers.IntegerField(help_text="Of which running or paused.")


class KPISerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    measured_until = serializers.DateTimeField()
    hours = serializers.FloatField()
    throughput = ThroughputSerializer()
    first_pass_yield = FirstPassYieldSerializer()
    scrap = ScrapSerializer()
    on_time_delivery = OnTimeSerializer()
    work_centers = WorkCenterKPISerializer(many=True)
