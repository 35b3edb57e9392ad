"""``GET /api/v1/events/``: the outbox as a cursor-paginated feed."""

import django_filters
from rest_framework import serializers, viewsets

from mes.api.pagination import LedgerCursorPagination
from mes.api.permissions import ALL_ROLES
from mes.models import Event
from mes.selectors import committed_events


class EventSerializer(serializers.ModelSerializer):
    sequence = serializers.IntegerField(source="id", read_only=True)

    class Meta:
        model = Event
        fields = ["id", "sequence", "type", "aggregate_type", "aggregate_id", "payload_version", "payload", "occurred_at"]
        read_only_fields = fields


class EventFilter(django_filters.FilterSet):
    type = django_filters.BaseInFilter(field_name="type")
    after_sequence = django_filters.NumberFilter(field_name="id", lookup_expr="gt")

    class Meta:
        model = Event
        fields = ["type", "aggregate_type", "aggregate_id", "after_sequence"]


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """The outbox as a feed. Events appear only once every transaction that could still commit
    an earlier sequence has finished, so reading ``after_sequence`` never skips one."""

    queryset = Event.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = LedgerCursorPagination
    ordering_fields = None
    read_roles = ALL_ROLES

    def get_queryset(self):
        return committed_events() if self.action == "list" else Event.objects.all()
