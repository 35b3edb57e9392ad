from django.contrib import admin

from mes.models import (
    ElectronicSignature,
    Event,
    IdempotencyRecord,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


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
    list_display = ["id", "sequence", "type", "aggregate_type", "aggregate_id", "occurred_at", "actor"]
    list_filter = ["type", "aggregate_type"]
    search_fields = ["aggregate_id", "type"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "method", "path", "status_code", "key"]
    search_fields = ["key", "path"]
    exclude = ["response_body"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["attempted_at", "status_code", "error", "duration_ms", "response_excerpt"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "is_active", "failing_since", "disabled_at", "disabled_reason", "cursor"]
    list_filter = ["is_active"]
    readonly_fields = ["cursor", "failing_since", "disabled_at", "disabled_reason", "created_at", "created_by"]
    exclude = ["secret"]
    actions = ["replay_from_start_of_failures"]

    @admin.action(description="Re-enable and replay from the first undelivered event")
    def replay_from_start_of_failures(self, request, queryset):
        from mes.webhooks.services import webhook_subscription_replay

        for subscription in queryset:
            first = (
                subscription.deliveries.exclude(status="delivered").order_by("sequence").values_list("sequence", flat=True).first()
            )
            webhook_subscription_replay(subscription=subscription, from_sequence=first or subscription.cursor + 1, user=request.user)
        self.message_user(request, f"Replaying {queryset.count()} subscription(s).")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "event", "subscription", "status", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["status", "subscription"]
    inlines = [WebhookAttemptInline]


@admin.register(ElectronicSignature)
class ElectronicSignatureAdmin(ReadOnlyAdmin):
    list_display = ["signed_at", "signer_name", "meaning", "record_type", "record_id", "record_hash"]
    list_filter = ["meaning", "record_type"]
    search_fields = ["signer_name", "record_id", "record_hash"]


def register_audit_trails() -> None:
    """Each audited record's history, read-only in the admin (filter by the record's id)."""
    from mes.audit import AUDITED, audited_model, register_audited_models

    register_audited_models()  # the admin is discovered before the platform app is ready
    for resource in AUDITED:
        model = audited_model(resource)
        history_model = getattr(getattr(model, "history", None), "model", None)
        if history_model is None or admin.site.is_registered(history_model):
            continue
        admin.site.register(
            history_model,
            type(
                f"{history_model.__name__}Admin",
                (ReadOnlyAdmin,),
                {
                    "list_display": ["id", "history_date", "history_type", "history_user", "history_change_reason"],
                    "list_filter": ["history_type", "history_date"],
                    "search_fields": ["id", "history_change_reason"],
                },
            ),
        )


register_audit_trails()
