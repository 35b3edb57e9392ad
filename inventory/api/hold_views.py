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
from inventory.api.hold_serializers import HoldDetailSerializer, HoldReleaseSerializer
from inventory.models import Hold
from mes.api.permissions import ALL_ROLES, PLANNER, QUALITY
from mes.api.signatures import SIGNATURE_REFUSED

HOLDERS = frozenset({QUALITY, PLANNER})


class HoldViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Quality holds. `POST {lot? (id), serial? (id), reason}` places one (quality, planner);
    `POST /holds/{id}/release/ {reason, signature_password, signature_meaning?}` releases it under
    the caller's electronic signature. Held material cannot be issued."""

    queryset = Hold.objects.select_related("lot", "serial", "placed_by", "released_by").order_by("pk")
    serializer_class = s.HoldSerializer
    filterset_fields = ["status", "lot", "serial", "source_type", "source_id"]
    read_roles = ALL_ROLES
    write_roles = HOLDERS

    def get_serializer_class(self):
        return HoldDetailSerializer if self.action in ("retrieve", "release") else s.HoldSerializer

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

    @extend_schema(
        request=HoldReleaseSerializer,
        responses={200: HoldDetailSerializer, 409: OpenApiResponse(description="Not active"), **SIGNATURE_REFUSED},
        description="Release the hold, signed electronically: the caller re-enters their password "
        "(`signature_password`). A missing or wrong password is a 403 problem (`signature_refused`, errors[] "
        "naming `signature_password`), and nothing changes.",
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        hold = self.get_object()
        serializer = HoldReleaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        hold = services.release_hold(
            hold=hold,
            reason=data["reason"],
            user=request.user,
            signature_password=data.get("signature_password"),
            signature_meaning=data.get("signature_meaning"),
        )
        return Response(HoldDetailSerializer(self.get_queryset().get(pk=hold.pk)).data)
