"""Stock moves over the API: receipts, transfers, adjustments, issues and scrap, and the ledger
they write. Each write calls one service.

Who may do what: everyone reads; receipts, transfers, issues and scrap: operator, planner,
integration; adjustments and reversals: planner, integration.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import services
from inventory.api import stock_serializers as s
from inventory.models import StockMove
from mes.api.pagination import LedgerCursorPagination
from mes.api.permissions import ALL_ROLES, INTEGRATION, OPERATOR, PLANNER
from mes.errors import ApplicationError

STOCK_MOVERS = frozenset({OPERATOR, PLANNER, INTEGRATION})
STOCK_CORRECTORS = frozenset({PLANNER, INTEGRATION})

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
