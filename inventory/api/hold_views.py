"""Quality holds over the API. Everyone reads; quality and planner place and release holds.
Held material cannot be issued.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory import services
from inventory.api import stock_serializers as s
from inventory.models import Hold
from mes.api.permissions import ALL_ROLES, PLANNER, QUALITY

HOLDERS = frozenset({QUALITY, PLANNER})


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
