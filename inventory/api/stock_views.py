"""Stock over the API: lots, serials, receipts, transfers, adjustments, the ledger, balances,
availability, reservations and holds. Each write calls one service.

Who may do what: everyone reads; receipts, transfers, issues and scrap: operator, planner, integration;
adjustments and reversals: planner, integration; lot master data (expiry, supplier lot): planner,
quality; holds: quality, planner. Lots and serials themselves are created by receipts and
production, never directly.
"""

from __future__ import annotations

import django_filters
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import selectors, services
from inventory.api import stock_serializers as s
from inventory.models import (
    Hold,
    Item,
    Lot,
    Reservation,
    SerialNumber,
    StockBalance,
    StockMove,
)
from mes.api.pagination import LedgerCursorPagination
from mes.api.permissions import ALL_ROLES, INTEGRATION, OPERATOR, PLANNER, QUALITY
from mes.errors import ApplicationError
from mes.quantities import QUANTITY_DIGITS, QUANTITY_PLACES, ZERO

QUANTITY = DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
STOCK_MOVERS = frozenset({OPERATOR, PLANNER, INTEGRATION})
STOCK_CORRECTORS = frozenset({PLANNER, INTEGRATION})
HOLDERS = frozenset({QUALITY, PLANNER})

# Service argument names → the API's field names, for errors that name a field.
API_FIELDS = {"lot": "lot_code", "serials": "serial_codes"}


class renamed_fields:
    """Re-raise a service error with the field named as the API calls it."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if isinstance(exc, ApplicationError) and exc.field in API_FIELDS:
            exc.field = API_FIELDS[exc.field]
        return False


class LotFilter(django_filters.FilterSet):
    item_code = django_filters.CharFilter(field_name="item__code")
    expires_before = django_filters.DateFilter(field_name="expires_on", lookup_expr="lt")

    class Meta:
        model = Lot
        fields = ["item", "code", "status", "item_code", "expires_before"]


class LotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Lots of lot-tracked items with their stock. Created by receipts and production; planner
    and quality may correct the expiry date and the supplier's lot reference."""

    serializer_class = s.LotSerializer
    filterset_class = LotFilter
    ordering_fields = ["code", "expires_on", "created_at"]
    read_roles = ALL_ROLES
    write_roles = frozenset({PLANNER, QUALITY})
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return (
            Lot.objects.select_related("item")
            .annotate(on_hand=Coalesce(Sum("balances__quantity"), Value(ZERO), output_field=QUANTITY))
            .order_by("pk")
        )

    def perform_update(self, serializer):
        lot = serializer.instance
        data = {k: v for k, v in serializer.validated_data.items() if k in ("expires_on", "supplier_lot")}
        services.lot_update(lot=lot, data=data, user=self.request.user)


class SerialFilter(django_filters.FilterSet):
    item_code = django_filters.CharFilter(field_name="item__code")
    location = django_filters.NumberFilter(field_name="current_location")
    in_stock = django_filters.BooleanFilter(field_name="current_location", lookup_expr="isnull", exclude=True)

    class Meta:
        model = SerialNumber
        fields = ["item", "code", "status", "lot", "item_code", "location", "in_stock"]


class SerialNumberViewSet(viewsets.ReadOnlyModelViewSet):
    """Serial numbers: status and where each one is. Written only by the stock services."""

    queryset = SerialNumber.objects.select_related("item", "current_location", "lot").order_by("pk")
    serializer_class = s.SerialNumberSerializer
    filterset_class = SerialFilter
    ordering_fields = ["code", "created_at"]
    read_roles = ALL_ROLES


def _moves_response(moves, *, code=status.HTTP_201_CREATED) -> Response:
    ids = [m.pk for m in moves]
    rows = StockMove.objects.filter(pk__in=ids).select_related("item", "lot", "serial", "user", "reversed_by").order_by("pk")
    return Response(s.MovesOutputSerializer({"moves": rows}).data, status=code)


class StockActionViewSet(viewsets.GenericViewSet):
    """Base of the POST-only stock endpoints."""

    read_roles = ALL_ROLES
    service = None

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with renamed_fields():
            moves = self.call(serializer.validated_data, request.user)
        return _moves_response(moves)


@extend_schema(request=s.ReceiptInputSerializer, responses={201: s.MovesOutputSerializer})
class ReceiptViewSet(StockActionViewSet):
    """Goods received: `{item, location, quantity, lot_code?, serial_codes?[], reference?}` → the moves."""

    serializer_class = s.ReceiptInputSerializer
    write_roles = STOCK_MOVERS

    def call(self, data, user):
        return services.receive(
            item=data["item"],
            location=data["location"],
            quantity=data["quantity"],
            lot_code=data.get("lot_code") or None,
            serial_codes=data.get("serial_codes") or None,
            expires_on=data.get("expires_on"),
            supplier_lot=data.get("supplier_lot", ""),
            reference=data.get("reference", ""),
            unit=data.get("unit"),
            user=user,
        )


@extend_schema(request=s.TransferInputSerializer, responses={201: s.MovesOutputSerializer})
class TransferViewSet(StockActionViewSet):
    """Stock moved between locations: `{item, from_location, to_location, quantity, lot_code?, serial_codes?[]}`."""

    serializer_class = s.TransferInputSerializer
    write_roles = STOCK_MOVERS

    def call(self, data, user):
        return services.transfer(
            item=data["item"],
            from_location=data["from_location"],
            to_location=data["to_location"],
            quantity=data["quantity"],
            lot=data.get("lot_code") or None,
            serials=data.get("serial_codes") or None,
            reason=data.get("reason", ""),
            reference=data.get("reference", ""),
            user=user,
        )


@extend_schema(request=s.AdjustmentInputSerializer, responses={201: s.MovesOutputSerializer})
class AdjustmentViewSet(StockActionViewSet):
    """A counted difference: `{item, location, quantity (signed), lot_code?, serial_codes?[], reason}`."""

    serializer_class = s.AdjustmentInputSerializer
    write_roles = STOCK_CORRECTORS

    def call(self, data, user):
        return services.adjust(
            item=data["item"],
            location=data["location"],
            quantity=data["quantity"],
            reason=data["reason"],
            lot=data.get("lot_code") or None,
            serials=data.get("serial_codes") or None,
            expires_on=data.get("expires_on"),
            reference=data.get("reference", ""),
            user=user,
        )


@extend_schema(request=s.IssueInputSerializer, responses={201: s.MovesOutputSerializer})
class IssueViewSet(StockActionViewSet):
    """Stock issued to production outside a production report (e.g. kitting for a work order):
    `{item, location, quantity, lot_code?, serial_codes?[], work_order_id?, operation_id?}`.
    Held or expired lots, held serials and stock reserved for others are refused (409)."""

    serializer_class = s.IssueInputSerializer
    write_roles = STOCK_MOVERS

    def call(self, data, user):
        return services.issue(
            item=data["item"],
            location=data["location"],
            quantity=data["quantity"],
            lot=data.get("lot_code") or None,
            serials=data.get("serial_codes") or None,
            work_order_id=data.get("work_order_id"),
            operation_id=data.get("operation_id"),
            reason=data.get("reason", ""),
            user=user,
        )


@extend_schema(request=s.ScrapInputSerializer, responses={201: s.MovesOutputSerializer})
class ScrapViewSet(StockActionViewSet):
    """Stock scrapped: `{item, location, quantity, lot_code?, serial_codes?[], reason}`."""

    serializer_class = s.ScrapInputSerializer
    write_roles = STOCK_MOVERS

    def call(self, data, user):
        return services.scrap(
            item=data["item"],
            location=data["location"],
            quantity=data["quantity"],
            reason=data["reason"],
            lot=data.get("lot_code") or None,
            serials=data.get("serial_codes") or None,
            work_order_id=data.get("work_order_id"),
            user=user,
        )


class MoveFilter(django_filters.FilterSet):
    location = django_filters.NumberFilter(method="filter_location", label="From or to this location")
    work_order = django_filters.NumberFilter(field_name="work_order_id")
    operation = django_filters.NumberFilter(field_name="operation_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    kind = django_filters.MultipleChoiceFilter(choices=StockMove.Kind.choices)

    class Meta:
        model = StockMove
        fields = ["item", "lot", "serial", "location", "work_order", "operation", "kind", "created_after", "created_before"]

    def filter_location(self, queryset, name, value):
        return queryset.filter(Q(from_location=value) | Q(to_location=value))


class StockMoveViewSet(viewsets.ReadOnlyModelViewSet):
    """The stock ledger, oldest first (`?cursor=`). Moves are never changed: a mistake is
    corrected by `POST /api/v1/stock/moves/{id}/reverse/` (planner, integration)."""

    queryset = StockMove.objects.select_related("item", "lot", "serial", "user", "reversed_by").order_by("id")
    serializer_class = s.StockMoveSerializer
    filterset_class = MoveFilter
    pagination_class = LedgerCursorPagination
    ordering_fields = None
    read_roles = ALL_ROLES
    action_roles = {"reverse": STOCK_CORRECTORS}

    @extend_schema(request=s.ReasonSerializer, responses={201: s.MovesOutputSerializer})
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        move = self.get_object()
        serializer = s.ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reversal = services.reverse_move(move=move, reason=serializer.validated_data["reason"], user=request.user)
        return _moves_response([reversal])


class BalanceFilter(django_filters.FilterSet):
    include_empty = django_filters.BooleanFilter(method="filter_empty", label="Include rows with nothing on hand")

    class Meta:
        model = StockBalance
        fields = ["item", "location", "lot", "include_empty"]

    def filter_empty(self, queryset, name, value):
        return queryset

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("include_empty"):
            queryset = queryset.filter(Q(quantity__gt=0) | Q(reserved__gt=0))
        return queryset


def balances_with_availability():
    today = timezone.localdate()
    held_serials = (
        SerialNumber.objects.annotate(lot_key=Coalesce("lot_id", Value(0)))
        .filter(
            item_id=OuterRef("item_id"),
            current_location_id=OuterRef("location_id"),
            lot_key=Coalesce(OuterRef("lot_id"), Value(0)),
            status=SerialNumber.Status.ON_HOLD,
        )
        .order_by()
        .values("item_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    held = Case(
        When(Q(lot__status=Lot.Status.ON_HOLD) | Q(lot__expires_on__lt=today), then=F("quantity")),
        default=Coalesce(Subquery(held_serials), Value(0)),
        output_field=QUANTITY,
    )
    return (
        StockBalance.objects.select_related("item", "location", "lot")
        .annotate(held=held)
        .annotate(
            available=Greatest(
                ExpressionWrapper(F("quantity") - F("reserved") - F("held"), output_field=QUANTITY),
                Value(ZERO),
                output_field=QUANTITY,
            )
        )
        .order_by("pk")
    )


class StockBalanceViewSet(viewsets.ReadOnlyModelViewSet):
    """On hand per item, location and lot: `quantity`, `reserved`, `held`, `available`."""

    serializer_class = s.StockBalanceSerializer
    filterset_class = BalanceFilter
    read_roles = ALL_ROLES

    def get_queryset(self):
        return balances_with_availability()


class AvailabilityViewSet(viewsets.GenericViewSet):
    """What an item has available over all locations, net of every reservation and hold."""

    read_roles = ALL_ROLES
    queryset = Item.objects.none()
    serializer_class = s.ItemAvailabilitySerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        parameters=[OpenApiParameter("item", str, required=True, description="Item ids, comma-separated.")],
        responses={200: s.ItemAvailabilitySerializer(many=True)},
    )
    def list(self, request):
        raw = request.query_params.get("item", "")
        try:
            ids = [int(v) for v in raw.split(",") if v.strip()]
        except ValueError:
            ids = []
        if not ids:
            raise serializers.ValidationError({"item": "Give one or more item ids, comma-separated."})
        stocks = selectors.item_stock(ids)
        codes = dict(Item.objects.filter(pk__in=ids).values_list("pk", "code"))
        rows = [
            {
                "item": pk,
                "item_code": codes[pk],
                "on_hand": stocks[pk].on_hand(),
                "reserved": stocks[pk].reserved(),
                "available": stocks[pk].available(),
            }
            for pk in sorted(codes)
        ]
        return Response(self.get_serializer(rows, many=True).data)


class ReservationViewSet(viewsets.ReadOnlyModelViewSet):
    """Stock promised to demands (work orders); written by the services of those demands."""

    queryset = Reservation.objects.all().order_by("pk")
    serializer_class = s.ReservationSerializer
    filterset_fields = ["item", "lot", "location", "status", "demand_type", "demand_id"]
    read_roles = ALL_ROLES


class HoldViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Quality holds. `POST {lot? (id), serial? (id), reason}` places one (quality, planner);
    `POST /holds/{id}/release/ {reason}` releases it. Held material cannot be issued."""

    queryset = Hold.objects.select_related("lot", "serial", "placed_by", "released_by").order_by("pk")
    serializer_class = s.HoldSerializer
    filterset_fields = ["status", "lot", "serial", "source_type", "source_id"]
    read_roles = ALL_ROLES
    write_roles = HOLDERS

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.place_hold(
            lot=data.get("lot"),
            serial=data.get("serial"),
            reason=data["reason"],
            user=self.request.user,
            source_type=data.get("source_type", ""),
            source_id=data.get("source_id"),
        )

    @extend_schema(request=s.ReasonSerializer, responses={200: s.HoldSerializer, 409: OpenApiResponse(description="Not active")})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        hold = self.get_object()
        serializer = s.ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hold = services.release_hold(hold=hold, reason=serializer.validated_data["reason"], user=request.user)
        return Response(s.HoldSerializer(self.get_queryset().get(pk=hold.pk)).data)
