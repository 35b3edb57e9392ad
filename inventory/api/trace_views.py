"""Traceability over the API: trace trees and recall jobs. Everyone reads; quality and planner
start recalls."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import selectors, services
from inventory.api import stock_serializers as s
from inventory.models import Lot, RecallJob, SerialNumber
from inventory.selectors.trace import MAX_DEPTH
from inventory.services.recall import recall_report_csv
from mes.api.permissions import ALL_ROLES, PLANNER, QUALITY
from mes.errors import ApplicationError, InvalidInput, NotFound


def _item_id(raw) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise InvalidInput("The item must be an id.", field="item", code="invalid") from None


def resolve_node(*, lot_code=None, serial_code=None, item=None):
    """The lot or serial a client names by code (and item, when the code is not unique)."""
    item_id = _item_id(getattr(item, "pk", item))
    if bool(lot_code) == bool(serial_code):
        raise InvalidInput("Give either a lot (with its item) or a serial number.", field="lot", code="lot_or_serial")
    model, code, field = (Lot, lot_code, "lot") if lot_code else (SerialNumber, serial_code, "serial")
    rows = model.objects.filter(code=code)
    if item_id is not None:
        rows = rows.filter(item_id=item_id)
    found = list(rows.select_related("item")[:2])
    if not found:
        raise NotFound(f"No {field} {code}" + (f" of item {item_id}." if item_id else "."), extra={"field": field})
    if len(found) > 1:
        raise InvalidInput(f"{code} names a {field} of several items: give the item too.", field="item", code="ambiguous_code")
    return {field: found[0]}


def _with_decimal_strings(node: dict) -> dict:
    """Quantities as decimal strings, as everywhere in the API."""
    out = dict(node)
    if out.get("quantity") is not None:
        out["quantity"] = str(out["quantity"])
    out["children"] = [_with_decimal_strings(child) for child in node.get("children", [])]
    return out


TRACE_PARAMETERS = [
    OpenApiParameter("serial", str, description="Serial code."),
    OpenApiParameter("lot", str, description="Lot code (with `item`)."),
    OpenApiParameter("item", int, description="Item id; needed with `lot` when the code is not unique."),
    OpenApiParameter("max_depth", int, description=f"Levels to follow (default and limit {MAX_DEPTH})."),
]

TRACE_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="The tree: the root node (`type` lot|serial, `id`, `code`, `item`, `status`, `locations`) with "
    "`children`, each a node plus the link's `quantity`, `operation_id`, `work_order_id`, `depth` and its own `children`.",
)


class TraceViewSet(viewsets.ViewSet):
    """`GET /trace/backward/` — everything that went into a lot or serial; `GET /trace/forward/` —
    everything it went into, to the last level."""

    read_roles = ALL_ROLES

    def _trace(self, request, direction: str) -> Response:
        params = request.query_params
        try:
            max_depth = min(int(params.get("max_depth", MAX_DEPTH)), MAX_DEPTH)
        except ValueError:
            raise InvalidInput("max_depth must be a whole number.", field="max_depth", code="invalid") from None
        tree = selectors.trace_by_code(
            direction=direction,
            serial_code=params.get("serial"),
            lot_code=params.get("lot"),
            item=_item_id(params.get("item")),
            max_depth=max(max_depth, 1),
        )
        return Response({"direction": direction, **_with_decimal_strings(tree)})

    @extend_schema(parameters=TRACE_PARAMETERS, responses={200: TRACE_RESPONSE})
    @action(detail=False, methods=["get"])
    def backward(self, request):
        return self._trace(request, "backward")

    @extend_schema(parameters=TRACE_PARAMETERS, responses={200: TRACE_RESPONSE})
    @action(detail=False, methods=["get"])
    def forward(self, request):
        return self._trace(request, "forward")


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, (bytes, str)):
            return data
        return renderers.JSONRenderer().render(data)  # a problem document


class RecallViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Recalls: `POST {lot (code) + item | serial (code), reason, place_holds?}` → 202 and a job that
    traces forward to every affected end product; `GET /recalls/{id}/` its status, progress and
    report; `GET /recalls/{id}/report.csv` the report as CSV."""

    queryset = RecallJob.objects.select_related("lot", "serial", "started_by").order_by("-pk")
    filterset_fields = ["status", "lot", "serial"]
    read_roles = ALL_ROLES
    write_roles = frozenset({QUALITY, PLANNER})

    def get_serializer_class(self):
        if self.action == "create":
            return s.RecallInputSerializer
        return s.RecallJobSerializer if self.action == "retrieve" else s.RecallJobListSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if self.action in ("retrieve", "report_csv") else queryset.defer("report")

    @extend_schema(request=s.RecallInputSerializer, responses={202: s.RecallJobListSerializer})
    def create(self, request):
        serializer = s.RecallInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        node = resolve_node(lot_code=data.get("lot"), serial_code=data.get("serial"), item=data.get("item"))
        job = services.recall_start(**node, reason=data["reason"], place_holds=data["place_holds"], user=request.user)
        job = RecallJob.objects.select_related("lot", "serial", "started_by").defer("report").get(pk=job.pk)
        return Response(
            s.RecallJobListSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/recalls/{job.pk}/"},
        )

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def report_csv(self, request, pk=None):
        job = self.get_object()
        if job.status != RecallJob.Status.DONE:
            raise ApplicationError(
                f"Recall #{job.pk} is {job.status}; the report exists once it is done.",
                code="recall_not_done",
                extra={"recall_status": job.status},
            )
        response = HttpResponse(recall_report_csv(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="recall-{job.pk}.csv"'
        return response
