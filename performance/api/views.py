"""The performance API: OEE of a work center, the plant's KPIs, and printable labels.
Thin: validate the query, call one selector, serialize. Everyone reads."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.response import Response
from rest_framework.views import APIView

from mes.api.permissions import ALL_ROLES
from performance import labels, selectors
from performance.api import serializers as s

PROBLEM = OpenApiResponse(description="application/problem+json naming the field (`errors[]`).")


class OEEView(APIView):
    """`GET /oee/?work_center=&start=&end=[&group_by=shift|day]`."""

    read_roles = ALL_ROLES

    @extend_schema(
        operation_id="oee_retrieve",
        parameters=[s.OEEQuerySerializer],
        responses={200: s.OEESerializer, 400: PROBLEM},
        description="OEE of a work center over a range, after ISO 22400-2: availability = APT / PBT, performance = "
        "ideal time / APT, quality = good / produced, OEE = the product, with the inputs used. Planned busy time "
        "(PBT) is the calendar's working time less planned stops (downtime reasons marked planned); actual "
        "production time (APT) is PBT less the other stops; ideal time is the routing's run minutes per unit "
        "× units handled ÷ capacity; counts are the production reports of the range (reversed ones left out). "
        "A range that has not ended is measured up to now. Closed shifts come from their roll-ups "
        "(`rolled_up_shifts`), the rest is computed live (`live_ranges`); the figures are the same either way.",
    )
    def get(self, request):
        query = s.OEEQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        work_center = selectors.work_center_for_oee(data["work_center"].pk)
        report = selectors.oee_report(work_center=work_center, start=data["start"], end=data["end"])
        body = {
            "work_center": work_center.pk,
            "work_center_code": work_center.code,
            "start": report.start,
            "end": report.end,
            "measured_until": report.measured_until,
            "rolled_up_shifts": report.totals.sources.get("rolled_up", 0),
            "live_ranges": report.totals.sources.get("live", 0),
            **report.totals.as_dict(),
        }
        if data.get("group_by"):
            body["periods"] = report.grouped(data["group_by"])
        return Response(s.OEESerializer(body).data)


class KPIView(APIView):
    """`GET /kpis/?start=&end=`."""

    read_roles = ALL_ROLES

    @extend_schema(
        operation_id="kpis_retrieve",
        parameters=[s.RangeQuerySerializer],
        responses={200: s.KPISerializer, 400: PROBLEM},
        description="The plant's KPIs over a range: throughput (finished good units per hour), first-pass yield of the "
        "work orders completed in the range (good out of the last operation / units into the first), scrap rate in "
        "total and by reason code, on-time delivery (completed by the due date / completed with one), and per work "
        "center its good and scrap counts, yield, scrap rate, good units per hour and its work in progress now "
        "(what open orders still have to do there).",
    )
    def get(self, request):
        query = s.RangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = selectors.kpi_report(start=query.validated_data["start"], end=query.validated_data["end"])
        return Response(s.KPISerializer(report).data)


class LabelRenderer(renderers.BaseRenderer):
    """Passes the label's bytes through; a problem document (an error) is written as JSON."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, (bytes, str)):
            return data
        return renderers.JSONRenderer().render(data)


class PDFRenderer(LabelRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None


class PNGRenderer(LabelRenderer):
    media_type = "image/png"
    format = "png"
    charset = None


class ZPLRenderer(LabelRenderer):
    media_type = "text/plain"
    format = "zpl"
    charset = "utf-8"


KIND_NAMES = {"lot": "a lot", "serial": "a serial number", "work-order": "a work order"}


class LabelView(APIView):
    """A label of a lot, serial number or work order (``kind`` is set per URL)."""

    read_roles = ALL_ROLES
    kind = "lot"
    fmt = "pdf"

    def get(self, request, pk: int):
        label = labels.label_for(kind=self.kind, pk=pk)
        response = HttpResponse(labels.render(label, self.fmt), content_type=labels.CONTENT_TYPES[self.fmt])
        disposition = "inline" if self.fmt != "zpl" else "attachment"
        response["Content-Disposition"] = f'{disposition}; filename="{label.filename}.{self.fmt}"'
        return response


def _label_schema(fmt: str, media_type: str, schema):
    return extend_schema(
        responses={(200, media_type): schema, 404: PROBLEM, 409: PROBLEM},
        description={
            "pdf": "The label as a 100 × 62 mm PDF with a Code 128 barcode of the code (vector, for any printer).",
            "png": "The label as a 300 dpi PNG (1181 × 732 pixels) with a Code 128 barcode of the code.",
            "zpl": "The label as ZPL II for Zebra printers (203 dpi, 100 × 62 mm; `^BC` Code 128 of the code).",
        }[fmt]
        + " 409 `barcode_not_encodable` when the code has characters Code 128 cannot carry.",
    )


@_label_schema("pdf", "application/pdf", OpenApiTypes.BINARY)
class PDFLabelView(LabelView):
    fmt = "pdf"
    renderer_classes = [PDFRenderer, renderers.JSONRenderer]


@_label_schema("png", "image/png", OpenApiTypes.BINARY)
class PNGLabelView(LabelView):
    fmt = "png"
    renderer_classes = [PNGRenderer, renderers.JSONRenderer]


@_label_schema("zpl", "text/plain", OpenApiTypes.STR)
class ZPLLabelView(LabelView):
    fmt = "zpl"
    renderer_classes = [ZPLRenderer, renderers.JSONRenderer]


LABEL_VIEWS = {"pdf": PDFLabelView, "png": PNGLabelView, "zpl": ZPLLabelView}
