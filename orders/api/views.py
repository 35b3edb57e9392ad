"""The orders API: product definition (calendars, work centers, BOMs, routings), work orders and
their operations. Thin: validate, call one service or selector, serialize."""

from __future__ import annotations

from rest_framework.generics import get_object_or_404  # a malformed id is a 404, not a 500
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.validators import UniqueValidator

from inventory.api.views import MasterDataViewSet
from inventory.models import Item
from mes.api.errors import flatten_validation_errors
from mes.api.permissions import ALL_ROLES, INTEGRATION, PLANNER
from mes.api.upsert import BulkRequestSerializer, BulkResultSerializer, prefetch_relations
from mes.bulk import MAX_BULK_RECORDS, BulkRejected, RecordError
from mes.errors import InvalidInput
from mes.history import CHANGE_REASON_HEADER
from orders import selectors, services
from orders.api import filters
from orders.api.serializers import (
    BOMSerializer,
    CalendarSerializer,
    ExplosionQuerySerializer,
    ExplosionSerializer,
    ReleaseInputSerializer,
    ReleaseResultSerializer,
    RoutingSerializer,
    TransitionInputSerializer,
    WhereUsedSerializer,
    WorkCenterSerializer,
    WorkOrderDetailSerializer,
    WorkOrderOperationSerializer,
    WorkOrderSerializer,
)
from orders.models import BillOfMaterials, WorkCenter
from orders.selectors.structure import MAX_DEPTH

PLANNERS_AND_ERP = frozenset({PLANNER, INTEGRATION})
PROBLEM = OpenApiResponse(description="application/problem+json with `code` (and `errors[]` naming fields).")


class RefetchingMasterDataViewSet(MasterDataViewSet):
    """Master data whose answer after a write is read back through the list selector, so the
    response has the same shape and the same bounded queries as a GET."""

    create_service = None
    update_service = None
    delete_service = None

    def _refetch(self, instance):
        return self.get_queryset().get(pk=instance.pk)

    def perform_create(self, serializer):
        super().perform_create(serializer)
        serializer.instance = self._refetch(serializer.instance)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        serializer.instance = self._refetch(serializer.instance)
        if hasattr(serializer, "_data"):
            del serializer._data

    def perform_destroy(self, instance):
        if type(self).delete_service is not None:
            type(self).delete_service(instance, user=self.request.user)
        else:
            super().perform_destroy(instance)


def _refetched(upsert, selector):
    def service(**kwargs):
        instance, created = upsert(**kwargs)
        return selector().get(pk=instance.pk), created

    return staticmethod(service)


class WorkCenterViewSet(RefetchingMasterDataViewSet):
    """Work centers: `capacity` parallel units; `calendar` empty means always open."""

    queryset = WorkCenter.objects.select_related("calendar")
    serializer_class = WorkCenterSerializer
    filterset_class = filters.WorkCenterFilter
    ordering_fields = ["code", "name"]
    create_service = staticmethod(services.work_center_create)
    update_service = staticmethod(lambda wc, **kw: services.work_center_update(work_center=wc, **kw))
    upsert_service = staticmethod(services.work_center_upsert_by_external_id)


class CalendarViewSet(RefetchingMasterDataViewSet):
    """Calendars: weekly `shifts` (`weekday` 0 = Monday, `start`, `end`; an end at or before the
    start ends the next day) and dated `exceptions` (`kind` closed | extra; whole days `date` …
    `end_date`, or `starts_at` … `ends_at`). Nested lists given on a write replace the old ones."""

    serializer_class = CalendarSerializer
    filterset_fields = ["code", "external_id"]
    ordering_fields = ["code", "name"]
    create_service = staticmethod(services.calendar_create)
    update_service = staticmethod(lambda calendar, **kw: services.calendar_update(calendar=calendar, **kw))
    upsert_service = _refetched(services.calendar_upsert_by_external_id, selectors.calendar_list)

    def get_queryset(self):
        return selectors.calendar_list()


@extend_schema_view(
    explosion=extend_schema(
        parameters=[ExplosionQuerySerializer],
        responses={200: ExplosionSerializer, 409: PROBLEM},
        description="Multi-level requirements for `quantity` units of the BOM's item: scrap factors applied level by "
        "level, requirements rounded up to what their unit counts, phantoms exploded through (never listed "
        "themselves, their components carry `via_phantom`), sub-assemblies exploded with their revision in "
        "effect on `on`.",
    )
)
class BOMViewSet(RefetchingMasterDataViewSet):
    """Bills of materials with nested `lines`. Refusals: `unit_mismatch` (a line's unit is not the
    component's), `bom_cycle` (with the `path`), `bom_effectivity_overlap` (two active revisions
    in effect at once). Effectivity is `[effective_from, effective_to)`."""

    serializer_class = BOMSerializer
    filterset_class = filters.BOMFilter
    ordering_fields = ["revision", "created_at", "effective_from"]
    create_service = staticmethod(services.bom_create)
    update_service = staticmethod(lambda bom, **kw: services.bom_update(bom=bom, **kw))
    delete_service = staticmethod(lambda bom, **kw: services.bom_delete(bom=bom, **kw))
    upsert_service = _refetched(services.bom_upsert_by_external_id, selectors.bom_list)

    def get_queryset(self):
        return selectors.bom_list().order_by("item__code", "revision")

    @action(detail=True, methods=["get"])
    def explosion(self, request, pk=None):
        bom = get_object_or_404(BillOfMaterials.objects.select_related("item"), pk=pk)
        query = ExplosionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = selectors.explode_bom(bom=bom, **query.validated_data)
        return Response(ExplosionSerializer(result).data)


class RoutingViewSet(RefetchingMasterDataViewSet):
    """Routings with nested `operations` (unique `sequence`). Refusals: `duplicate_sequence`,
    `routing_effectivity_overlap`."""

    serializer_class = RoutingSerializer
    filterset_class = filters.RoutingFilter
    ordering_fields = ["revision", "created_at", "effective_from"]
    create_service = staticmethod(services.routing_create)
    update_service = staticmethod(lambda routing, **kw: services.routing_update(routing=routing, **kw))
    delete_service = staticmethod(lambda routing, **kw: services.routing_delete(routing=routing, **kw))
    upsert_service = _refetched(services.routing_upsert_by_external_id, selectors.routing_list)

    def get_queryset(self):
        return selectors.routing_list().order_by("item__code", "revision")


class ItemWhereUsedView(GenericAPIView):
    """Every BOM (and its parent item) that uses the item, directly (`level` 1) or further up."""

    read_roles = ALL_ROLES
    serializer_class = WhereUsedSerializer
    queryset = Item.objects.all()
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, many=True, enum=["draft", "active", "obsolete"], description="BOM status; repeat for several (default: all)."),
            OpenApiParameter("levels", int, description="Only this many levels up (default: all)."),
        ],
        responses={200: WhereUsedSerializer(many=True), 404: PROBLEM},
    )
    def get(self, request, pk: int):
        item = get_object_or_404(Item, pk=pk)
        statuses = [s for s in request.query_params.getlist("status") if s in ("draft", "active", "obsolete")] or None
        try:
            levels = int(request.query_params.get("levels", MAX_DEPTH))
        except ValueError:
            raise InvalidInput("levels must be a whole number.", field="levels") from None
        rows = selectors.where_used(item=item, statuses=statuses, max_levels=levels)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WhereUsedSerializer(page, many=True).data)


class BulkServiceMixin:
    """``POST …/bulk/`` through a batch service (``bulk_service(*, records, user, reason)``) that
    applies the records as the per-record upsert service would, all or none: for work orders,
    whose number, draft-only rule, trail and status events the services own. Each record is
    validated by the upsert serializer, the objects it refers to looked up once for the batch."""

    bulk_service = None  # staticmethod(service)

    @extend_schema(
        request=BulkRequestSerializer,
        responses={200: BulkResultSerializer, 400: PROBLEM},
        description=f"Upsert up to {MAX_BULK_RECORDS} records keyed by `external_id`, all or none, with the same "
        "rules as `PUT by-external-id`. 400 lists the errors per record (`record_errors[]`) and applies nothing.",
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        body = BulkRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        records = body.validated_data["records"]
        external_ids = [r.get("external_id") if isinstance(r.get("external_id"), str) else None for r in records]
        errors: list[RecordError] = []
        seen: set[str] = set()
        for index, external_id in enumerate(external_ids):
            if not external_id or not external_id.strip():
                errors.append(RecordError(index, None, "external_id", "required", "Each record needs its external_id."))
            elif external_id in seen:
                errors.append(RecordError(index, external_id, "external_id", "duplicate_in_batch", "This external_id appears more than once in the batch."))
            seen.add(external_id)
        # One serializer for the batch: the record's external_id is its key (an existing row with
        # it is the one updated), so its uniqueness needs no query per record.
        serializer = self.get_upsert_serializer()
        for f in serializer.fields.values():
            f.validators = [v for v in f.validators if not isinstance(v, UniqueValidator)]
        prefetch_relations(serializer, records)
        validated = []
        for index, (external_id, record) in enumerate(zip(external_ids, records, strict=True)):
            try:
                data = serializer.run_validation(record)
            except ValidationError as exc:
                errors.extend(
                    RecordError(index, external_id, e["field"], e["code"], e["message"])
                    for e in flatten_validation_errors(exc.detail)
                )
                continue
            validated.append({**data, "external_id": external_id})
        if errors:
            raise BulkRejected(errors)
        results = type(self).bulk_service(
            records=validated, user=request.user, reason=request.headers.get(CHANGE_REASON_HEADER, "")[:100]
        )
        return Response(
            {
                "results": [
                    {"index": r["index"], "external_id": r["external_id"], "id": r["instance"].pk, "created": r["created"]}
                    for r in results
                ]
            }
        )


def _transition_schema(description: str, request=TransitionInputSerializer):
    return extend_schema(request=request, responses={200: WorkOrderDetailSerializer, 409: PROBLEM}, description=description)


class WorkOrderViewSet(BulkServiceMixin, RefetchingMasterDataViewSet):
    """Work orders. Created and changed only while `draft` (else 409 `work_order_not_draft`);
    `status` moves only through the transition endpoints. Planners and the ERP (integration)
    write drafts, release and cancel; hold, resume and close are the planner's."""

    filterset_class = filters.WorkOrderFilter
    ordering_fields = ["number", "due_at", "priority", "created_at"]
    create_service = staticmethod(services.work_order_create)
    update_service = staticmethod(lambda wo, **kw: services.work_order_update(work_order=wo, **kw))
    delete_service = staticmethod(lambda wo, **kw: services.work_order_delete(work_order=wo, **kw))
    upsert_service = _refetched(services.work_order_upsert_by_external_id, selectors.work_order_detail)
    bulk_service = staticmethod(services.work_orders_bulk_upsert)
    action_roles = {
        "release": PLANNERS_AND_ERP,
        "cancel": PLANNERS_AND_ERP,
        "hold": {PLANNER},
        "resume": {PLANNER},
        "close": {PLANNER},
    }

    def get_queryset(self):
        if self.action == "list":
            return selectors.work_order_list()
        return selectors.work_order_detail()

    def get_serializer_class(self):
        return WorkOrderSerializer if self.action == "list" else WorkOrderDetailSerializer

    def get_upsert_serializer(self, *args, **kwargs):
        return WorkOrderSerializer(*args, context=self.get_serializer_context(), **kwargs)

    def _answer(self, work_order, **extra):
        instance = selectors.work_order_detail().get(pk=work_order.pk)
        data = WorkOrderDetailSerializer(instance, context=self.get_serializer_context()).data
        data.update(extra)
        return Response(data)

    @extend_schema(
        request=ReleaseInputSerializer,
        responses={200: ReleaseResultSerializer, 409: PROBLEM},
        description="Freeze the BOM and routing revisions, explode the BOM for the order quantity, reserve material, "
        "create the operations. 409 `invalid_transition` unless draft, `no_routing`, or `shortage` with "
        "`shortages[]: {item, item_code, required, available, shortage}` (nothing changed). With "
        "`allow_shortage` the order is released, what is available reserved and the rest listed in `shortages`.",
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        work_order = self.get_object()
        body = ReleaseInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.work_order_release(
            work_order=work_order, user=request.user, allow_shortage=body.validated_data["allow_shortage"]
        )
        shortages = [s.as_dict() for s in result.shortages]
        return self._answer(result.work_order, shortages=shortages)

    def _transition(self, request, service):
        work_order = self.get_object()
        body = TransitionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(service(work_order=work_order, user=request.user, reason=body.validated_data["reason"]))

    @_transition_schema("Hold a released or running order (409 otherwise). Reservations are kept.")
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        return self._transition(request, services.work_order_hold)

    @_transition_schema("Take an order off hold, back to released or in progress (409 unless on hold).")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._transition(request, services.work_order_resume)

    @_transition_schema(
        "Cancel a draft, released, or held-before-start order (409 otherwise); its reservations are released."
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, services.work_order_cancel)

    @_transition_schema("Close a completed order (409 otherwise); any reservation left is released.")
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._transition(request, services.work_order_close)


class OperationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Work order operations (created at release from the routing), read-only here."""

    read_roles = ALL_ROLES
    serializer_class = WorkOrderOperationSerializer
    filterset_class = filters.OperationFilter
    ordering_fields = ["planned_start", "sequence", "id"]

    def get_queryset(self):
        return selectors.operation_list().order_by("work_order_id", "sequence")


__all__ = [
    "BOMViewSet",
    "CalendarViewSet",
    "ItemWhereUsedView",
    "OperationViewSet",
    "RoutingViewSet",
    "WorkCenterViewSet",
    "WorkOrderViewSet",
]
