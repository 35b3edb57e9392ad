"""Serializer helpers: nested lists whose foreign keys are looked up in one query, not one per row."""

from __future__ import annotations

MAX_ID = 2**63 - 1  # ids beyond a 64-bit integer cannot exist (and would not fit in a query)

from rest_framework import serializers


class BulkPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key looked up in the batch its :class:`PrefetchingListSerializer` loaded."""

    def to_internal_value(self, data):
        cache = self.context.get("_prefetched", {}).get(self.get_queryset().model)
        if cache is not None and not isinstance(data, bool):
            if isinstance(data, float) and not data.is_integer():
                self.fail("incorrect_type", data_type="float")
            try:
                pk = int(data)
            except (TypeError, ValueError):
                self.fail("incorrect_type", data_type=type(data).__name__)
            if pk in cache:
                return cache[pk]
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class PrefetchingListSerializer(serializers.ListSerializer):
    """Loads every row's :class:`BulkPrimaryKeyRelatedField` targets in one query per field."""

    def to_internal_value(self, data):
        if isinstance(data, list):
            prefetched = self.context.setdefault("_prefetched", {})
            for name, field in self.child.fields.items():
                if not isinstance(field, BulkPrimaryKeyRelatedField) or field.read_only:
                    continue
                ids = set()
                for row in data:
                    value = row.get(name) if isinstance(row, dict) else None
                    if isinstance(value, str) and value.isdigit():
                        value = int(value)
                    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
                        ids.add(value)
                queryset = field.get_queryset()
                cache = prefetched.setdefault(queryset.model, {})
                missing = ids - set(cache)
                if missing:
                    cache.update(queryset.in_bulk(list(missing)))
        return super().to_internal_value(data)
