"""The shop-floor API: dispatch lists, operator actions on operations, production reports and
their reversal, downtime, and the reason codes tablets choose from. Thin: validate, call one
service or selector, serialize.

Roles: operators and planners act (start, pause, resume, complete, report, record downtime);
reversing a report is a supervisor's job, and supervisors are planners; everyone reads.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from mes.api.idempotency import savepoints_optional
from mes.api.permissions import ALL_ROLES, OPERATOR, PLANNER
from orders import selectors, services
from orders.api import execution_serializers as s
from orders.api.serializers import WorkOrderOperationSerializer
from orders.models import (
    DowntimeEvent,
    DowntimeReason,
    ProductionReport,
    ScrapReason,
    WorkCenter,
    WorkOrderOperation,
)

SHOP_FLOOR = frozenset({OPERATOR, PLANNER})
SUPERVISORS = frozenset({PLANNER})
PROBLEM = OpenApiResponse(description="application/problem+json with `code` (and `errors[]` naming fields).")


def _action_schema(description: str):
    return extend_schema(
        request=s.OperationActionSerializer,
        responses={200: WorkOrderOperationSerializer, 404: PROBLEM, 409: PROBLEM},
        description=description,
    )


class OperationExecutionViewSet(viewsets.GenericViewSet):
    """The operator's actions on a work order operation (`POST /operations/{id}/start/` …) and
    production reports against it (`POST /operations/{id}/reports/`)."""

    queryset = WorkOrderOperation.objects.all()
    lookup_value_regex = r"\d+"
    serializer_class = s.OperationActionSerializer
    read_roles = ALL_ROLES
    write_roles = SHOP_FLOOR
    filter_backends = []

    def _act(self, request, service):
        operation = self.get_object()
        body = s.OperationActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service(operation=operation, user=request.user, **body.validated_data)
        fresh = selectors.operation_list().get(pk=operation.pk)
        return Response(WorkOrderOperationSerializer(fresh, context=self.get_serializer_context()).data)

    @_action_schema(
        "ready → running (409 otherwise, or while the order is on hold). The order's first start moves it to "
        "`in_progress`. `recorded_at` is the tablet's own time; the server's is recorded beside it."
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._act(request, services.operation_start)

    @_action_schema("running → paused (409 otherwise). Reports are refused while paused.")
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._act(request, services.operation_pause)

    @_action_schema("paused → running (409 otherwise, or while the order is on hold).")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._act(request, services.operation_resume)

    @_action_schema(
        "running or paused → done, after every earlier operation (409 `previous_operation_not_done`). Readies the "
        "next operation; completing the last one completes the work order (`work_order.completed`)."
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._act(request, services.operation_complete)

    @extend_schema(
        request=s.ProductionReportInputSerializer,
        responses={201: s.ProductionReportSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        description="A production report against a running operation: good and scrap quantities (scrap needs a "
        "`scrap_reason` code), the components scanned (`consumed[]`: item id, lot or serial code as scanned, "
        "quantity; untracked components of this operation are backflushed), the serials or lot produced, labour "
        "minutes and the tablet's `recorded_at`. One transaction: the stock moves, balances, reservations, genealogy "
        "links and the operation's counters, or nothing. Refusals (409): `operation_not_running`, `wrong_item`, "
        "`lot_on_hold`, `serial_on_hold`, `lot_expired`, `insufficient_stock`, `serial_already_exists`, "
        "`serial_not_at_operation`, `over_report`; 400 for malformed input (`scrap_reason_required`, "
        "`serial_count_mismatch`, `lot_not_found` …). Retry safely with an `Idempotency-Key`.",
    )
    @savepoints_optional  # its services change nothing outside the database
    @action(detail=True, methods=["post"])
    def reports(self, request, pk=None):
        # the service finds (404) and locks the operation itself: one query fewer on the busiest endpoint
        report = services.production_report_create(operation=int(pk), user=request.user, **s.report_input(request.data))
        data = s.ProductionReportSerializer(report, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.OperationEventSerializer(many=True), 404: PROBLEM}, description="Who started, paused, resumed and completed the operation, when (server and client time), and why.")
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        operation = self.get_object()
        page = self.paginate_queryset(selectors.operation_history(operation=operation))
        return self.get_paginated_response(s.OperationEventSerializer(page, many=True).data)


class DispatchListViewSet(viewsets.GenericViewSet):
    """`GET /work-centers/{id}/dispatch-list/`: what to run next at the work center."""

    queryset = WorkCenter.objects.all()
    serializer_class = s.DispatchRowSerializer
    read_roles = ALL_ROLES
    filter_backends = []

    @extend_schema(
        responses={200: s.DispatchRowSerializer(many=True), 404: PROBLEM},
        description="Ready, running and paused operations at the work center, of released or running orders, in the "
        "order to run them: by the schedule's planned start where there is one, then by priority (highest first) and "
        "due date. Each row has the order, item, quantities (left to make, available from the previous operation) "
        "and the materials to scan for that operation: the order's frozen requirements, with what is still to issue "
        "(untracked ones are backflushed).",
    )
    @action(detail=True, methods=["get"], url_path="dispatch-list")
    def dispatch_list(self, request, pk=None):
        work_center = self.get_object()
        page = self.paginate_queryset(selectors.dispatch_queryset(work_center=work_center))
        rows = selectors.dispatch_rows(list(page))
        return self.get_paginated_response(s.DispatchRowSerializer(rows, many=True).data)


class ProductionReportFilter(django_filters.FilterSet):
    work_center = django_filters.NumberFilter(field_name="operation__work_center")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = ProductionReport
        fields = ["operation", "work_order", "kind", "user"]


class ProductionReportViewSet(viewsets.ReadOnlyModelViewSet):
    """Production reports and their reversals (read), and `POST /production-reports/{id}/reverse/`
    for supervisors (planners)."""

    serializer_class = s.ProductionReportSerializer
    filterset_class = ProductionReportFilter
    ordering_fields = ["id", "created_at"]
    read_roles = ALL_ROLES
    action_roles = {"reverse": SUPERVISORS}

    def get_queryset(self):
        return selectors.production_report_list().order_by("id")

    @extend_schema(
        request=s.ReversalInputSerializer,
        responses={201: s.ProductionReportSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        description="Reverse a wrong report with a new reversing report (`kind` reversal, negative quantities): every "
        "stock move reversed, consumed components re-reserved for the order, the operation's counters restored, the "
        "genealogy links marked reversed. Nothing is deleted. 409: `already_reversed`, `not_reversible` (a reversal, "
        "or the order is no longer running), `output_used_downstream` (reverse the next operation's reports first).",
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        report = self.get_object()
        body = s.ReversalInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reversal = services.production_report_reverse(report=report, user=request.user, **body.validated_data)
        fresh = self.get_queryset().get(pk=reversal.pk)
        return Response(s.ProductionReportSerializer(fresh, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)


class DowntimeFilter(django_filters.FilterSet):
    reason = django_filters.CharFilter(field_name="reason__code", help_text="Reason code.")
    open = django_filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull", help_text="Only open (true) or closed (false) ones.")
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = DowntimeEvent
        fields = ["work_center", "reason", "open", "started_after", "started_before"]


class DowntimeViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Downtime per work center: `POST {work_center, reason (code), started_at, ended_at?, note?}` records
    one (open while `ended_at` is empty); `POST /downtime/{id}/close/ {ended_at}` closes it."""

    serializer_class = s.DowntimeSerializer
    filterset_class = DowntimeFilter
    ordering_fields = ["started_at", "id"]
    read_roles = ALL_ROLES
    write_roles = SHOP_FLOOR

    def get_queryset(self):
        return selectors.downtime_list().order_by("-started_at", "-id")

    @extend_schema(
        request=s.DowntimeInputSerializer,
        responses={201: s.DowntimeSerializer, 400: PROBLEM, 409: PROBLEM},
        description="Record a stop. 409 `downtime_already_open` when the work center has an open one and this one "
        "has no `ended_at`; 400 `unknown_downtime_reason` for a code not in the maintained list.",
    )
    def create(self, request, *args, **kwargs):
        body = s.DowntimeInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        downtime = services.downtime_open(user=request.user, **body.validated_data)
        fresh = self.get_queryset().get(pk=downtime.pk)
        return Response(s.DowntimeSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.DowntimeCloseSerializer,
        responses={200: s.DowntimeSerializer, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        description="Close an open downtime (409 `downtime_closed` when closed already).",
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        downtime = self.get_object()
        body = s.DowntimeCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.downtime_close(downtime=downtime, user=request.user, **body.validated_data)
        return Response(s.DowntimeSerializer(self.get_queryset().get(pk=downtime.pk)).data)


class ScrapReasonViewSet(viewsets.ReadOnlyModelViewSet):
    """The maintained scrap reason codes (kept in the admin)."""

    queryset = ScrapReason.objects.order_by("code")
    serializer_class = s.ScrapReasonSerializer
    filterset_fields = ["is_active", "code"]
    read_roles = ALL_ROLES


class DowntimeReasonViewSet(viewsets.ReadOnlyModelViewSet):
    """The maintained downtime reason codes (kept in the admin)."""

    queryset = DowntimeReason.objects.order_by("code")
    serializer_class = s.DowntimeReasonSerializer
    filterset_fields = ["is_active", "is_planned", "code"]
    read_roles = ALL_ROLES
