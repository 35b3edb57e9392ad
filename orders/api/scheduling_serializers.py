"""Serializers of the scheduling API: shapes only; the rules are in ``orders.services.scheduling``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import ScheduleObjective, ScheduleRun, ScheduleRunStatus, SolverStatus
from orders.models.scheduling import DEFAULT_TIME_LIMIT_SECONDS, MAX_TIME_LIMIT_SECONDS


class ScheduleRunInputSerializer(serializers.Serializer):
    horizon_start = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Earliest time to plan work at (default and minimum: now)."
    )
    time_limit_seconds = serializers.IntegerField(
        required=False,
        default=DEFAULT_TIME_LIMIT_SECONDS,
        min_value=1,
        max_value=MAX_TIME_LIMIT_SECONDS,
        help_text="The solver's time limit; the best schedule found by then is published.",
    )
    objective = serializers.ChoiceField(
        choices=ScheduleObjective.choices,
        required=False,
        default=ScheduleObjective.WEIGHTED_TARDINESS,
        help_text="`weighted_tardiness` (then makespan), `makespan`, or `heuristic` (the dispatching rule alone).",
    )


class LateWorkOrderSerializer(serializers.Serializer):
    work_order = serializers.IntegerField()
    number = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    planned_end = serializers.DateTimeField()
    minutes_late = serializers.IntegerField()
    weight = serializers.IntegerField()


class ScheduleRunSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ScheduleRunStatus.choices, read_only=True)
    solver_status = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    gap_percent = serializers.FloatField(read_only=True, allow_null=True, help_text="(objective − lower bound) / objective.")
    late_work_orders = LateWorkOrderSerializer(many=True, read_only=True, help_text="The late orders, most weighted minutes late first.")

    class Meta:
        model = ScheduleRun
        fields = [
            "id",
            "status",
            "objective",
            "horizon_start",
            "time_limit_seconds",
            "solver_status",
            "planned_from",
            "horizon_end",
            "work_orders_count",
            "operations_count",
            "frozen_operations_count",
            "objective_value",
            "makespan_minutes",
            "weighted_tardiness",
            "late_orders",
            "late_work_orders",
            "lower_bound",
            "gap_percent",
            "wall_seconds",
            "heuristic_makespan_minutes",
            "heuristic_weighted_tardiness",
            "heuristic_late_orders",
            "published_operations",
            "input_fingerprint",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(
            choices=SolverStatus.choices,
            allow_null=True,
            help_text="`optimal` (proven), `feasible` (time limit reached: the best found), `heuristic` (the "
            "dispatching rule) or `infeasible`; null until the run has solved.",
        )
    )
    def get_solver_status(self, run) -> str | None:
        return run.solver_status or None


class ScheduleRunListSerializer(ScheduleRunSerializer):
    late_work_orders = None

    class Meta(ScheduleRunSerializer.Meta):
        fields = [f for f in ScheduleRunSerializer.Meta.fields if f != "late_work_orders"]
        read_only_fields = fields
