"""``GET …/{id}/history/``: the audit trail of one object, newest first, with the fields changed."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from mes.api.permissions import ALL_ROLES
from mes.audit import AUDITED, audited_model

class HistoryEntrySerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    changed_at = serializers.DateTimeField()
    change = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    user = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    changes = serializers.DictField(help_text="field → {old, new} for a change")

CHANGE_NAMES = {"+": "created", "~": "changed", "-": "deleted"}


def history_entries(instance, *, limit: int = 200) -> list[dict]:
    return _entries(instance.history.all(), limit=limit)


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


class HistoryMixin:
    """Adds the read-only audit trail to a viewset whose model has ``history``."""

    @extend_schema(responses={200: HistoryEntrySerializer(many=True)}, description="The audit trail, newest first.")
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return Response(history_entries(self.get_object()))


class AuditTrailView(APIView):
    """``GET /api/v1/history/{resource}/{id}/``: who changed the record, when, why, and what.

    ``resource`` is one of the audited collections (items, locations, holds, work-centers,
    calendars, boms, routings, work-orders, inspection-plans, nonconformances). The trail outlives the record: a deleted record's
    history is still readable."""

    read_roles = ALL_ROLES

    @extend_schema(
        parameters=[
            OpenApiParameter("resource", str, OpenApiParameter.PATH, enum=sorted(AUDITED)),
            OpenApiParameter("id", int, OpenApiParameter.PATH),
        ],
        responses={200: HistoryEntrySerializer(many=True)},
        tags=["history"],
    )
    def get(self, request, resource: str, id: int):
        model = audited_model(resource)
        if model is None:
            raise NotFound(f"'{resource}' has no audit trail.")
        records = model.history.filter(id=id)
        if not records.exists():
            raise NotFound(f"No history for {resource} {id}.")
        return Response(_entries(records))


def _entries(records, *, limit: int = 200) -> list[dict]:
    records = list(records.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    entries = []
    for record, previous in zip(records, records[1:] + [None]):
        changes = {}
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous)
            changes = {c.field: {"old": _plain(c.old), "new": _plain(c.new)} for c in delta.changes}
        entries.append(
            {
                "history_id": record.history_id,
                "changed_at": record.history_date,
                "change": CHANGE_NAMES.get(record.history_type, record.history_type),
                "user": record.history_user.get_username() if record.history_user else None,
                "reason": record.history_change_reason,
                "changes": changes,
            }
        )
    return entries[:limit]
