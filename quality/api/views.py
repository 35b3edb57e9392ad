"""The quality API: inspection plans, inspections and their measurements, nonconformances, SPC.

Who may do what: everyone reads; quality engineers write plans, open inspections and
nonconformances and disposition them; operators (and quality) post measurements.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from mes.api.permissions import ALL_ROLES, OPERATOR, QUALITY
from mes.api.signatures import SIGNATURE_REFUSED
from quality import selectors, services
from quality.api import serializers as s
from quality.api import spc_serializers as spc
from quality.models import Characteristic, Inspection, InspectionPlan, Nonconformance

QUALITY_WRITERS = frozenset({QUALITY})
MEASURERS = frozenset({OPERATOR, QUALITY})
PROBLEM = OpenApiResponse(description="application/problem+json naming the field or the rule")


class InspectionPlanFilter(django_filters.FilterSet):
    item_code = django_filters.CharFilter(field_name="item__code")

    class Meta:
        model = InspectionPlan
        fields = ["item", "item_code", "trigger", "is_active", "name", "routing_operation_sequence"]


class InspectionPlanViewSet(viewsets.ModelViewSet):
    """Inspection plans with their characteristics. A `PUT`/`PATCH` with `characteristics`
    replaces the list at once; characteristics with measurements cannot be removed."""

    serializer_class = s.InspectionPlanSerializer
    filterset_class = InspectionPlanFilter
    ordering_fields = ["name", "created_at"]
    read_roles = ALL_ROLES
    write_roles = QUALITY_WRITERS

    def get_queryset(self):
        return selectors.inspection_plan_list()

    def _data(self, serializer) -> dict:
        data = dict(serializer.validated_data)
        if "characteristics" in data:
            data["characteristics"] = [dict(row) for row in data["characteristics"]]
        return data

    def perform_create(self, serializer):
        serializer.instance = services.inspection_plan_create(data=self._data(serializer), user=self.request.user)

    def perform_update(self, serializer):
        services.inspection_plan_update(plan=serializer.instance, data=self._data(serializer), user=self.request.user)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response.data = self.get_serializer(self.get_queryset().get(pk=response.data["id"])).data
        return response

    def perform_destroy(self, instance):
        services.inspection_plan_delete(plan=instance, user=self.request.user)

    @extend_schema(request=s.ResumeSamplingSerializer, responses={200: s.SamplingStateSerializer, 409: PROBLEM})
    @action(detail=True, methods=["post"], url_path="resume-sampling")
    def resume_sampling(self, request, pk=None):
        """After corrective action, resume discontinued sampling inspection (on tightened)."""
        plan = self.get_object()
        serializer = s.ResumeSamplingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        state = services.sampling_resume(plan=plan, user=request.user, reason=serializer.validated_data["reason"])
        return Response(s.SamplingStateSerializer(state).data)


class InspectionFilter(django_filters.FilterSet):
    serial = django_filters.NumberFilter(method="filter_serial", label="The serial, alone or in a batch")
    work_order = django_filters.NumberFilter(field_name="work_order_id")
    operation = django_filters.NumberFilter(field_name="operation_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Inspection
        fields = ["plan", "status", "lot", "serial", "item", "source", "disposition", "work_order", "operation"]

    def filter_serial(self, queryset, name, value):
        return queryset.filter(Q(serial_id=value) | Q(serials__id=value)).distinct()


class InspectionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Inspections: created by their triggers (receipt, operation report, work order completion)
    or by hand; `POST /inspections/{id}/measurements/` records results and decides pass/fail."""

    filterset_class = InspectionFilter
    ordering_fields = ["created_at", "decided_at"]
    read_roles = ALL_ROLES
    write_roles = QUALITY_WRITERS
    action_roles = {"measurements": MEASURERS}

    def get_queryset(self):
        if self.action == "list":
            return selectors.inspection_list()
        return selectors.inspection_detail()

    def get_serializer_class(self):
        if self.action == "create":
            return s.InspectionCreateSerializer
        if self.action == "list":
            return s.InspectionSerializer
        return s.InspectionDetailSerializer

    def _detail(self, inspection, *, code=status.HTTP_200_OK) -> Response:
        return Response(s.InspectionDetailSerializer(selectors.inspection_detail().get(pk=inspection.pk)).data, status=code)

    @extend_schema(request=s.InspectionCreateSerializer, responses={201: s.InspectionDetailSerializer, 400: PROBLEM, 409: PROBLEM})
    def create(self, request, *args, **kwargs):
        serializer = s.InspectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        inspection = services.inspection_create(
            plan=data["plan"],
            lot=data.get("lot"),
            serial=data.get("serial"),
            operation_id=data.get("operation"),
            location=data.get("location"),
            lot_size=data.get("lot_size"),
            reference=data.get("reference", ""),
            is_resubmission=data.get("is_resubmission", False),
            user=request.user,
        )
        return self._detail(inspection, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.MeasurementInputSerializer(many=True),
        responses={201: s.InspectionDetailSerializer, 400: PROBLEM, 409: PROBLEM},
        description=(
            "A list `[{characteristic, sample_index, value | passed}]` (or `{measurements: [...]}`). "
            "Errors name the row, e.g. `measurements.2.value`."
        ),
    )
    @action(detail=True, methods=["post"])
    def measurements(self, request, pk=None):
        inspection = self.get_object()
        body = request.data
        if isinstance(body, list):
            body = {"measurements": body}
        serializer = s.MeasurementsInputSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        inspection = services.measurements_record(
            inspection=inspection,
            measurements=[dict(row) for row in serializer.validated_data["measurements"]],
            user=request.user,
        )
        return self._detail(inspection, code=status.HTTP_201_CREATED)


class NonconformanceFilter(django_filters.FilterSet):
    serial = django_filters.NumberFilter(method="filter_serial", label="The serial, alone or in a batch")
    opened_after = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")

    class Meta:
        model = Nonconformance
        fields = ["status", "disposition", "item", "lot", "serial", "inspection", "spc_signal"]

    def filter_serial(self, queryset, name, value):
        return queryset.filter(Q(serial_id=value) | Q(serials__id=value)).distinct()


class NonconformanceViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Nonconformance reports. Opening one holds its lot or serial; `POST .../disposition/`
    `{disposition, note?, location?}` carries out use as is, rework, scrap or return to supplier;
    `POST .../close/` closes a rework once done."""

    filterset_class = NonconformanceFilter
    ordering_fields = ["opened_at", "number"]
    read_roles = ALL_ROLES
    write_roles = QUALITY_WRITERS

    def get_queryset(self):
        if self.action == "list":
            return selectors.nonconformance_list()
        return selectors.nonconformance_detail()

    def get_serializer_class(self):
        if self.action == "create":
            return s.NonconformanceCreateSerializer
        if self.action == "list":
            return s.NonconformanceSerializer
        return s.NonconformanceDetailSerializer

    def _detail(self, ncr, *, code=status.HTTP_200_OK) -> Response:
        return Response(
            s.NonconformanceDetailSerializer(selectors.nonconformance_detail().get(pk=ncr.pk)).data, status=code
        )

    @extend_schema(
        request=s.NonconformanceCreateSerializer, responses={201: s.NonconformanceDetailSerializer, 400: PROBLEM}
    )
    def create(self, request, *args, **kwargs):
        serializer = s.NonconformanceCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ncr = services.nonconformance_open(
            inspection=data.get("inspection"),
            item=data.get("item"),
            lot=data.get("lot"),
            serial=data.get("serial"),
            location=data.get("location"),
            quantity=data.get("quantity"),
            description=data["description"],
            hold=data.get("hold", True),
            user=request.user,
        )
        return self._detail(ncr, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.DispositionSerializer,
        responses={200: s.NonconformanceDetailSerializer, 409: PROBLEM, **SIGNATURE_REFUSED},
        description="Disposition the NCR, signed electronically: the caller re-enters their password "
        "(`signature_password`). A missing or wrong password is a 403 problem (`signature_refused`, errors[] "
        "naming `signature_password`), and nothing changes.",
    )
    @action(detail=True, methods=["post"])
    def disposition(self, request, pk=None):
        ncr = self.get_object()
        serializer = s.DispositionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ncr = services.nonconformance_disposition(
            ncr=ncr,
            disposition=data["disposition"],
            note=data.get("note", ""),
            location=data.get("location"),
            user=request.user,
            signature_password=data.get("signature_password"),
            signature_meaning=data.get("signature_meaning"),
        )
        return self._detail(ncr)

    @extend_schema(
        request=s.CloseSerializer,
        responses={200: s.NonconformanceDetailSerializer, 409: PROBLEM, **SIGNATURE_REFUSED},
        description="Close a reworked NCR and release its holds, signed electronically as a disposition is.",
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        ncr = self.get_object()
        serializer = s.CloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ncr = services.nonconformance_close(
            ncr=ncr,
            note=data.get("note", ""),
            user=request.user,
            signature_password=data.get("signature_password"),
            signature_meaning=data.get("signature_meaning"),
        )
        return self._detail(ncr)


class ChartQuerySerializer(serializers.Serializer):
    points = serializers.IntegerField(
        required=False, min_value=2, max_value=selectors.MAX_CHART_POINTS, default=selectors.DEFAULT_CHART_POINTS
    )


class SpcViewSet(viewsets.GenericViewSet):
    """The control chart of a variable characteristic: `GET /spc/{characteristic_id}/?points=100`."""

    queryset = Characteristic.objects.select_related("plan").filter(kind=Characteristic.Kind.VARIABLE)
    read_roles = ALL_ROLES
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[OpenApiParameter("points", int, description="How many of the latest points (2–500, default 100).")],
        responses={200: spc.SpcChartSerializer, 404: PROBLEM},
    )
    def retrieve(self, request, pk=None):
        characteristic = self.get_object()
        query = ChartQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        chart = selectors.spc_chart(characteristic=characteristic, max_points=query.validated_data["points"])
        return Response(spc.SpcChartSerializer(chart).data)
