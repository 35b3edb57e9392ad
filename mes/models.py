"""Platform tables: stored responses for idempotent requests, the event outbox, webhooks."""

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a state-changing request, replayed for retries with the same key."""

    # Looked up (and cascaded) by the unique (user, key) index, which leads with the user.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class Event(models.Model):
    """The outbox: one row per business event, written in the transaction of the change.

    ``sequence`` is the monotonic, gap-free-for-readers order of the feed. Rows are never
    deleted; the only update is the one that gives an event its sequence.
    """

    type = models.CharField(max_length=64)  # indexed for equality only (Meta.indexes): no LIKE index
    aggregate_type = models.CharField(max_length=64)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    payload_version = models.PositiveSmallIntegerField(default=1)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request_id = models.CharField(max_length=64, blank=True)
    # The feed's order: given after commit, in commit order (``mes.outbox.assign_sequences``), so
    # an event whose transaction commits late still comes after everything already read.
    sequence = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["aggregate_type", "aggregate_id", "id"], name="event_aggregate_idx"),
            models.Index(fields=["id"], condition=models.Q(sequence__isnull=True), name="event_unsequenced_idx"),
            models.Index(fields=["type"], name="event_type_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type} {self.aggregate_type}:{self.aggregate_id}"



class WebhookSubscription(models.Model):
    """An ERP endpoint that receives signed event deliveries (Standard Webhooks)."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, help_text="Event types to deliver; empty means all.")
    secret = models.CharField(max_length=200, help_text="whsec_<base64> signing secret.")
    is_active = models.BooleanField(default=True)
    cursor = models.BigIntegerField(default=0, help_text="Last event sequence fanned out to this subscription.")
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event owed to one subscription; retried with backoff until delivered or given up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    sequence = models.BigIntegerField(help_text="The event's sequence: deliveries of one aggregate go in this order.")
    aggregate_key = models.CharField(max_length=140)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sequence", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(fields=["subscription", "aggregate_key", "status", "sequence"], name="delivery_aggregate_seq_idx"),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.sequence} → {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP attempt."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]


class ElectronicSignature(models.Model):
    """Who signed what, meaning what, when — with a hash of the signed record. Append-only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    record_type = models.CharField(max_length=64)
    record_id = models.CharField(max_length=64)
    record_hash = models.CharField(max_length=64, help_text="SHA-256 of the signed record's content.")

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="signature_record_idx")]

    def __str__(self) -> str:
        return f"{self.signer_name}: {self.meaning} ({self.record_type} {self.record_id})"
