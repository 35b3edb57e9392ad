"""The outbox relay: fan committed events out to subscriptions, deliver them, retry with backoff.

Guarantees: at-least-once delivery; per subscription and aggregate, events are delivered in
sequence order (a later event waits while an earlier one for the same aggregate is pending);
failed attempts back off exponentially with jitter for more than 24 hours before the delivery
is given up and the subscription disabled. The relay runs from celery beat and after every
commit that recorded an event, so events committed while the broker or the workers were down
are delivered when they come back.
"""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import datetime, timedelta

import requests
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from mes.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from mes.selectors import feed_events
from mes.webhooks.signing import signed_headers

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 2 * 3600
GIVE_UP_AFTER = timedelta(hours=26)
DISABLE_AFTER_FAILING = timedelta(hours=24)
REQUEST_TIMEOUT_SECONDS = 10
FAN_OUT_BATCH = 2000
DELIVERY_BATCH = 200
CLAIM_SECONDS = 120

_session = requests.Session()
_session.trust_env = False  # no proxy lookup from the environment on every delivery


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with ±25 % jitter: 30 s, 1 min, 2 min, … capped at 2 h."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    jitter = (rng or random).uniform(0.75, 1.25)
    return timedelta(seconds=base * jitter)


def event_body(event: Event) -> str:
    return json.dumps(
        {
            "type": event.type,
            "timestamp": event.occurred_at.isoformat(),
            "data": {
                "sequence": event.sequence,
                "aggregate_type": event.aggregate_type,
                "aggregate_id": event.aggregate_id,
                "payload_version": event.payload_version,
                "payload": event.payload,
            },
        },
        separators=(",", ":"),
    )


def fan_out(*, batch: int = FAN_OUT_BATCH) -> int:
    """Create a pending delivery per subscription for every sequenced event past its cursor."""
    created = 0
    now = timezone.now()
    for subscription_id in WebhookSubscription.objects.filter(is_active=True).values_list("id", flat=True):
        with transaction.atomic():
            subscription = (
                WebhookSubscription.objects.select_for_update(skip_locked=True).filter(pk=subscription_id).first()
            )
            if subscription is None or not subscription.is_active:
                continue
            events = list(
                feed_events()
                .filter(sequence__gt=subscription.cursor)
                .values_list("id", "sequence", "type", "aggregate_type", "aggregate_id")[:batch]
            )
            if not events:
                continue
            rows = [
                WebhookDelivery(
                    subscription=subscription,
                    event_id=event_id,
                    sequence=sequence,
                    aggregate_key=f"{aggregate_type}:{aggregate_id}",
                    next_attempt_at=now,
                )
                for event_id, sequence, event_type, aggregate_type, aggregate_id in events
                if subscription.wants(event_type)
            ]
            WebhookDelivery.objects.bulk_create(rows)
            subscription.cursor = events[-1][1]
            subscription.save(update_fields=["cursor"])
            created += len(rows)
    return created


def _due_deliveries(now: datetime, limit: int):
    earlier_pending = WebhookDelivery.objects.filter(
        subscription=OuterRef("subscription"),
        aggregate_key=OuterRef("aggregate_key"),
        status=WebhookDelivery.Status.PENDING,
        sequence__lt=OuterRef("sequence"),
    )
    return (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, subscription__is_active=True)
        .exclude(Exists(earlier_pending))
        .select_related("subscription", "event")
        .order_by("sequence")[:limit]
    )


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    body = event_body(delivery.event)
    headers = signed_headers(
        secret=delivery.subscription.secret,
        message_id=f"evt_{delivery.event_id}",
        timestamp=timezone.now(),
        body=body,
    )
    try:
        response = _session.post(
            delivery.subscription.url, data=body.encode(), headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], ""
    return response.status_code, "", response.text[:500]


def _claim(now: datetime, limit: int) -> list[WebhookDelivery]:
    """Lease a batch of due deliveries in a short transaction: no transaction stays open while a
    receiver is slow (an open writer would hold back the event feed for everyone). A relay that
    dies mid-batch leaves leases that simply expire, and the deliveries are attempted again."""
    with transaction.atomic():
        batch = list(_due_deliveries(now, limit))
        if batch:
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in batch]).update(
                next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
            )
    return batch


def deliver_due(*, now: datetime | None = None, limit: int = DELIVERY_BATCH) -> int:
    """Attempt every due delivery (one batch); returns how many were attempted."""
    now = now or timezone.now()
    batch = _claim(now, limit)
    if not batch:
        return 0
    attempts, failed_subscriptions, succeeded_subscriptions = [], set(), set()
    blocked_aggregates: set[tuple[int, str]] = set()
    for delivery in batch:
        key = (delivery.subscription_id, delivery.aggregate_key)
        if key in blocked_aggregates or delivery.subscription_id in failed_subscriptions:
            delivery.next_attempt_at = now  # not tried this round: due again at once
            continue  # keep per-aggregate order; stop hammering a failing receiver this round
        started = time.monotonic()
        status_code, error, excerpt = _post(delivery)
        attempts.append(
            WebhookAttempt(
                delivery=delivery,
                attempted_at=timezone.now(),
                status_code=status_code,
                error=error,
                duration_ms=int((time.monotonic() - started) * 1000),
                response_excerpt=excerpt,
            )
        )
        delivery.attempts += 1
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            succeeded_subscriptions.add(delivery.subscription_id)
        else:
            blocked_aggregates.add(key)
            failed_subscriptions.add(delivery.subscription_id)
            if now - delivery.event.occurred_at > GIVE_UP_AFTER:
                delivery.status = WebhookDelivery.Status.FAILED
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    with transaction.atomic():
        WebhookDelivery.objects.bulk_update(
            batch, ["attempts", "status", "delivered_at", "next_attempt_at"], batch_size=100
        )
        WebhookAttempt.objects.bulk_create(attempts)
        _update_subscription_health(now, succeeded_subscriptions, failed_subscriptions - succeeded_subscriptions)
    return len(attempts)


def _update_subscription_health(now: datetime, succeeded: set[int], failed: set[int]) -> None:
    if succeeded:
        WebhookSubscription.objects.filter(pk__in=succeeded).update(failing_since=None)
    if not failed:
        return
    WebhookSubscription.objects.filter(pk__in=failed, failing_since__isnull=True).update(failing_since=now)
    for subscription in WebhookSubscription.objects.filter(
        pk__in=failed, is_active=True, failing_since__lte=now - DISABLE_AFTER_FAILING
    ):
        subscription.is_active = False
        subscription.disabled_at = now
        subscription.disabled_reason = "Deliveries failed for more than 24 hours."
        subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
        logger.warning("webhook subscription disabled", extra={"subscription": subscription.pk})


def relay(*, max_seconds: float = 50.0, now: datetime | None = None) -> dict[str, int]:
    """Fan out and deliver until nothing is due or the time budget is spent."""
    deadline = time.monotonic() + max_seconds
    totals = {"fanned_out": 0, "attempted": 0}
    while time.monotonic() < deadline:
        fanned = fan_out()
        attempted = deliver_due(now=now)
        totals["fanned_out"] += fanned
        totals["attempted"] += attempted
        if not fanned and not attempted:
            break
    return totals


def kick() -> None:
    """Called after a commit that recorded events: relay soon, without piling up tasks."""
    from mes.celery import app

    if app.conf.task_always_eager:
        if WebhookSubscription.objects.filter(is_active=True).exists():
            relay(max_seconds=5.0)
        return
    if not cache.add("mes:relay-kick", 1, timeout=1):
        return
    from mes.tasks import relay_outbox

    try:
        relay_outbox.apply_async(retry=False)
    except Exception:  # noqa: BLE001 - the broker is down: the periodic relay catches up later
        logger.warning("could not queue the outbox relay; the periodic relay will deliver")
