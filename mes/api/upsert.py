"""Upserts by the ERP's key, one at a time or in bulk.

* ``PUT …/by-external-id/{external_id}/`` creates or updates one object: 201 or 200.
* ``POST …/bulk/`` takes ``{"records": [...]}`` (up to 1,000, each with its ``external_id``),
  validates them all, and applies all or none: 200 with a result per record, or 400 with the
  errors per record and nothing changed.

A viewset mixes this in and names a service ``upsert_service(*, external_id, data, user)``
returning ``(instance, created)``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.validators import UniqueValidator

from mes.api.errors import flatten_validation_errors
from mes.history import CHANGE_REASON_HEADER
from mes.bulk import (
    MAX_BULK_RECORDS,
    BulkRejected,
    RecordError,
    bulk_upsert_each,
    bulk_upsert_rows,
    duplicate_errors,
)

EXTERNAL_ID_PATTERN = r"[^/]+"

BulkResultSerializer = inline_serializer(
    "BulkUpsertResult",
    {
        "results": serializers.ListField(
            child=inline_serializer(
                "BulkUpsertRecordResult",
                {
                    "index": serializers.IntegerField(),
                    "external_id": serializers.CharField(),
                    "id": serializers.IntegerField(),
                    "created": serializers.BooleanField(),
                },
            )
        )
    },
)


class BulkRequestSerializer(serializers.Serializer):
    records = serializers.ListField(
        child=serializers.DictField(), allow_empty=False, max_length=MAX_BULK_RECORDS
    )


def prefetch_relations(serializer, records: list[dict]) -> None:
    """Resolve every slug/pk reference of the batch in one query per field instead of one per record."""
    for name, f in serializer.fields.items():
        if f.read_only or not isinstance(f, (serializers.SlugRelatedField, serializers.PrimaryKeyRelatedField)):
            continue
        key = f.slug_field if isinstance(f, serializers.SlugRelatedField) else "pk"
        # Only plain references are looked up; anything else (a list, an object) the field reports.
        values = {
            value
            for value in (r.get(f.source if f.source != "*" else name) for r in records)
            if isinstance(value, (str, int)) and not isinstance(value, bool)
        }
        try:
            found = {str(getattr(o, key)): o for o in f.get_queryset().filter(**{f"{key}__in": values})}
        except (ValueError, TypeError):
            continue  # malformed references are reported per record by the field itself

        def lookup(data, field=f, found=found, original=f.to_internal_value):
            if isinstance(data, (str, int)) and not isinstance(data, bool) and str(data) in found:
                return found[str(data)]
            return original(data)

        f.to_internal_value = lookup


def _is_flat(serializer) -> bool:
    return not any(
        isinstance(f, serializers.BaseSerializer) and not f.read_only for f in serializer.fields.values()
    )


class ExternalIdUpsertMixin:
    upsert_service = None  # staticmethod(service)

    def get_upsert_serializer(self, *args, **kwargs):
        return self.get_serializer(*args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("external_id", str, OpenApiParameter.PATH, description="The ERP's key.")],
        description="Create or update by the ERP's key: 201 when created, 200 when updated. Nested parts "
        "(BOM lines, routing operations) are replaced as a whole.",
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

    @extend_schema(
        request=BulkRequestSerializer,
        responses={200: BulkResultSerializer},
        description=(
            f"Upsert up to {MAX_BULK_RECORDS} records keyed by `external_id`, all or none. Each record has "
            "the fields of the resource. 400 lists the errors per record (`record_errors[]`) and applies nothing."
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        body = BulkRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        records = body.validated_data["records"]
        model = self.get_queryset().model
        errors: list[RecordError] = []

        external_ids = []
        for index, record in enumerate(records):
            external_id = record.get("external_id")
            if not isinstance(external_id, str) or not external_id.strip():
                errors.append(RecordError(index, None, "external_id", "required", "Each record needs its external_id."))
            external_ids.append(external_id if isinstance(external_id, str) else None)
        seen: dict[str, int] = {}
        for index, external_id in enumerate(external_ids):
            if external_id and external_id in seen:
                errors.append(RecordError(index, external_id, "external_id", "duplicate_in_batch", "This external_id appears more than once in the batch."))
            seen.setdefault(external_id, index)

        validated, validated_by_index = [], {}
        flat = _is_flat(self.get_upsert_serializer())
        if not flat:
            existing = {obj.external_id: obj for obj in model.objects.filter(external_id__in=[e for e in external_ids if e])}
        if flat:
            # One serializer validates every record: flat rows have no per-instance validation once
            # uniqueness is checked set-wise (below) instead of by a query per record and field.
            shared = self.get_upsert_serializer()
            for f in shared.fields.values():
                f.validators = [v for v in f.validators if not isinstance(v, UniqueValidator)]
            prefetch_relations(shared, records)
        for index, (external_id, record) in enumerate(zip(external_ids, records)):
            if flat:
                try:
                    data = shared.run_validation(record)
                except serializers.ValidationError as exc:
                    errors.extend(
                        RecordError(index, external_id, e["field"], e["code"], e["message"])
                        for e in flatten_validation_errors(exc.detail)
                    )
                    continue
            else:
                serializer = self.get_upsert_serializer(instance=existing.get(external_id), data=record)
                if not serializer.is_valid():
                    errors.extend(
                        RecordError(index, external_id, e["field"], e["code"], e["message"])
                        for e in flatten_validation_errors(serializer.errors)
                    )
                    continue
                data = serializer.validated_data
            validated.append({k: v for k, v in data.items() if k != "external_id"})
            validated_by_index[index] = validated[-1]
        if errors and flat:
            # report taken codes with the other errors; a clean batch is checked once, in its transaction
            rows = [validated_by_index.get(i, {}) for i in range(len(records))]
            errors.extend(duplicate_errors(model, rows, external_ids))
        if errors:
            raise BulkRejected(errors)

        if flat:
            results = bulk_upsert_rows(
                model,
                external_ids=external_ids,
                records=validated,
                user=request.user,
                reason=request.headers.get(CHANGE_REASON_HEADER, "")[:100],
            )
        else:
            results = bulk_upsert_each(
                external_ids=external_ids, records=validated, upsert=type(self).upsert_service, user=request.user
            )
        return Response(
            {
                "results": [
                    {"index": r["index"], "external_id": r["external_id"], "id": r["instance"].pk, "created": r["created"]}
                    for r in results
                ]
            }
        )
