"""``GET /api/v1/events/``: the outbox as a cursor-paginated feed."""

import django_filters
from rest_framework import serializers, viewsets

from mes.api.pagination import LedgerCursorPagination


class EventCursorPagination(LedgerCursorPagination):
    ordering = "sequence"
from mes.api.permissions import ALL_ROLES
from mes.models import Event
from mes.selectors import feed_events


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["id", "sequence", "type", "aggregate_type", "aggregate_id", "payload_version", "payload", "occurred_at"]
        read_only_fields = fields


class EventFilter(django_filters.FilterSet):
    type = django_filters.BaseInFilter(field_name="type")
    after_sequence = django_filters.NumberFilter(field_name="sequence", lookup_expr="gt")

    class Meta:
        model = Event
        fields = ["type", "aggregate_type", "aggregate_id", "after_sequence"]


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """The outbox as a feed, in ``sequence`` order: sequences are given in commit order, so a
    reader that goes on from the last sequence it saw (``after_sequence`` or the cursor) never
    skips an event, even one whose transaction committed late."""

    queryset = Event.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = EventCursorPagination
    ordering_fields = None
    read_roles = ALL_ROLES

    def get_queryset(self):
        return feed_events() if self.action == "list" else Event.objects.all()
