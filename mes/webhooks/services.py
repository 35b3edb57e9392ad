"""Writes for webhook subscriptions."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from mes.errors import InvalidInput
from mes.models import Event, WebhookSubscription
from mes.outbox import assign_sequences
from mes.webhooks.signing import new_secret, secret_is_valid


def _check_secret(secret: str) -> None:
    if not secret_is_valid(secret):
        raise InvalidInput(
            "The secret must be 'whsec_' followed by 24 to 64 base64-encoded random bytes.", field="secret"
        )


@transaction.atomic
def webhook_subscription_create(
    *, url: str, event_types: list[str], secret: str | None = None, description: str = "", user=None
) -> WebhookSubscription:
    secret = secret or new_secret()
    _check_secret(secret)
    assign_sequences()
    latest = Event.objects.filter(sequence__isnull=False).order_by("-sequence").values_list("sequence", flat=True).first() or 0
    return WebhookSubscription.objects.create(
        url=url, event_types=sorted(set(event_types)), secret=secret, description=description,
        created_by=user if user is not None and user.is_authenticated else None, cursor=latest,
    )


@transaction.atomic
def webhook_subscription_update(*, subscription: WebhookSubscription, data: dict, user=None) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if "secret" in data:
        _check_secret(data["secret"])
    for field, value in data.items():
        setattr(subscription, field, sorted(set(value)) if field == "event_types" else value)
    subscription.save()
    return subscription


@transaction.atomic
def webhook_subscription_replay(*, subscription: WebhookSubscription, from_sequence: int, user=None) -> WebhookSubscription:
    """Deliver again every matching event from ``from_sequence`` on, and re-enable the subscription."""
    if from_sequence < 1:
        raise InvalidInput("from_sequence must be 1 or more.", field="from_sequence")
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.cursor = from_sequence - 1
    subscription.is_active = True
    subscription.disabled_at = None
    subscription.disabled_reason = ""
    subscription.failing_since = None
    subscription.save()
    subscription.deliveries.filter(status="pending").update(status="failed")
    return subscription


@transaction.atomic
def webhook_subscription_disable(*, subscription: WebhookSubscription, reason: str) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.is_active = False
    subscription.disabled_at = timezone.now()
    subscription.disabled_reason = reason[:300]
    subscription.save()
    return subscription
