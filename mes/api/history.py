"""``GET …/{id}/history/``: the audit trail of one object, newest first, with the fields changed."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

HistoryEntrySerializer = inline_serializer(
    "HistoryEntry",
    {
        "history_id": serializers.IntegerField(),
        "changed_at": serializers.DateTimeField(),
        "change": serializers.ChoiceField(choices=["created", "changed", "deleted"]),
        "user": serializers.CharField(allow_null=True),
        "reason": serializers.CharField(allow_null=True),
        "changes": serializers.DictField(help_text="field → {old, new} for a change"),
    },
)

CHANGE_NAMES = {"+": "created", "~": "changed", "-": "deleted"}


def history_entries(instance, *, limit: int = 200) -> list[dict]:
    records = list(instance.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
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
