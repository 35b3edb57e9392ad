"""The scheduling API: start a schedule run (a Celery job) and read runs with their figures."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from mes.api.permissions import ALL_ROLES, PLANNER
from orders.api import scheduling_serializers as s
from orders.models import ScheduleObjective, ScheduleRun, ScheduleRunStatus
from orders.services.scheduling import schedule_run_start

PROBLEM = OpenApiResponse(description="application/problem+json with `code` (and `errors[]` naming fields).")


class ScheduleRunFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ScheduleRunStatus.choices, help_text="Repeat for several.")
    objective = django_filters.ChoiceFilter(choices=ScheduleObjective.choices)

    class Meta:
        model = ScheduleRun
        fields = ["status", "objective", "created_by"]


class ScheduleRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Schedule runs: `POST {horizon_start?, time_limit_seconds?, objective?}` → 202 and a run that
    places every released operation on its work center within the calendars and, unless
    something changed meanwhile (then `stale`), writes the operations' planned start and end.
    Planners start runs; everyone reads them."""

    queryset = ScheduleRun.objects.select_related("created_by").defer("plan").order_by("-pk")
    filterset_class = ScheduleRunFilter
    ordering_fields = ["id", "created_at", "finished_at"]
    read_roles = ALL_ROLES
    write_roles = frozenset({PLANNER})

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if self.action == "retrieve" else queryset.defer("plan", "late_work_orders")

    def get_serializer_class(self):
        if self.action == "create":
            return s.ScheduleRunInputSerializer
        return s.ScheduleRunSerializer if self.action == "retrieve" else s.ScheduleRunListSerializer

    @extend_schema(
        request=s.ScheduleRunInputSerializer,
        responses={202: s.ScheduleRunSerializer, 400: PROBLEM, 403: PROBLEM},
        description="Start a schedule run as a background job. The answer (202) is the queued run; poll "
        "`GET /schedule-runs/{id}/` until `status` is `done` (published), `stale` (the orders changed "
        "meanwhile: nothing written, start again) or `failed` (`error` says why).",
    )
    def create(self, request):
        serializer = s.ScheduleRunInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = schedule_run_start(**serializer.validated_data, user=request.user)
        run = ScheduleRun.objects.select_related("created_by").get(pk=run.pk)
        return Response(
            s.ScheduleRunSerializer(run).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/schedule-runs/{run.pk}/"},
        )
