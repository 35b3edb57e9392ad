"""Lots and serial numbers over the API: what material exists and where each serial is.

Everyone reads; planner and quality may correct a lot's expiry date and supplier lot reference.
Lots and serials themselves are created by receipts and production, never directly.
"""

from __future__ import annotations

import django_filters
from django.db.models import DecimalField, Sum, Value
from django.db.models.functions import Coalesce
from rest_framework import mixins, viewsets

from inventory import services
from inventory.api import stock_serializers as s
from inventory.models import Lot, SerialNumber
from mes.api.permissions import ALL_ROLES, PLANNER, QUALITY
from mes.quantities import QUANTITY_DIGITS, QUANTITY_PLACES, ZERO

QUANTITY = DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)


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
