"""Stock on hand over the API: balances per item, location and lot, what an item has available,
and the reservations that promise stock to demands. Everyone reads; nothing here writes.
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
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from inventory import selectors
from inventory.api import stock_serializers as s
from inventory.models import Item, Lot, Reservation, SerialNumber, StockBalance
from mes.api.permissions import ALL_ROLES
from mes.quantities import QUANTITY_DIGITS, QUANTITY_PLACES, ZERO

QUANTITY = DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)


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
