"""``PUT …/by-external-id/{external_id}/``: create or update an object the ERP owns.

A viewset mixes this in and names a service ``upsert_service(*, external_id, data, user)``
returning ``(instance, created)``; the answer is 201 when created, 200 when updated.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

EXTERNAL_ID_PATTERN = r"[^/]+"


class ExternalIdUpsertMixin:
    upsert_service = None  # staticmethod(service)

    def get_upsert_serializer(self, *args, **kwargs):
        return self.get_serializer(*args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("external_id", str, OpenApiParameter.PATH, description="The ERP's key.")],
        responses={200: None, 201: None},
        description="Create or update by the ERP's key: 201 when created, 200 when updated.",
    )
    @action(detail=False, methods=["put"], url_path=rf"by-external-id/(?P<external_id>{EXTERNAL_ID_PATTERN})")
    def by_external_id(self, request, external_id: str):
        existing = self.get_queryset().model.objects.filter(external_id=external_id).first()
        serializer = self.get_upsert_serializer(instance=existing, data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "external_id"}
        instance, created = type(self).upsert_service(external_id=external_id, data=data, user=request.user)
        output = self.get_serializer(instance)
        return Response(output.data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
