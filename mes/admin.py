from django.contrib import admin

from mes.models import Event, IdempotencyRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only records: visible, never added, edited or deleted from the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "aggregate_type", "aggregate_id", "occurred_at", "actor"]
    list_filter = ["type", "aggregate_type"]
    search_fields = ["aggregate_id", "type"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "method", "path", "status_code", "key"]
    search_fields = ["key", "path"]
    exclude = ["response_body"]
