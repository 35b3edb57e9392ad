"""The outbox relay: fan committed events out to subscriptions, deliver them, retry with backoff.

Guarantees: at-least-once delivery; per subscription and aggregate, events are delivered in
sequence order (a later event waits while an earlier one for the same aggregate is pending);
failed attempts back off exponentially with jitter for more than 24 hours before the delivery
is given up and the subscription disabled. The relay runs from celery beat and after every
commit that recorded an event, so events committed while the broker or the workers were down
are delivered when they come back.

One round claims a batch in one statement (``SELECT … FOR UPDATE SKIP LOCKED``, so relays in
several workers share the work) and leases it; the first due delivery of an aggregate brings the
ones queued behind it, as a chain. Chains are posted by a few threads over kept-alive
connections (:mod:`mes.webhooks.transport`), each chain in order; then one transaction writes the
attempt log and every delivery's new state.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from mes import sql
from mes.rows import update_rows
from mes.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from mes.selectors import feed_events
from mes.webhooks.transport import post_chains

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 2 * 3600
GIVE_UP_AFTER = timedelta(hours=26)
DISABLE_AFTER_FAILING = timedelta(hours=24)
FAN_OUT_BATCH = 2000
PENDING_CAP = 10_000  # a subscription's cursor waits while this many deliveries are pending (the claim scans them)
DELIVERY_BATCH = 500  # deliveries claimed at once, across aggregates
MAX_CHAIN = 200  # of one aggregate in one batch, so a busy aggregate does not crowd out the others
CLAIM_SECONDS = 120


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with ±25 % jitter: 30 s, 1 min, 2 min, … capped at 2 h."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    jitter = (rng or random).uniform(0.75, 1.25)
    return timedelta(seconds=base * jitter)


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
            if subscription.deliveries.filter(status=WebhookDelivery.Status.PENDING).order_by()[PENDING_CAP:].exists():
                continue  # its receiver is behind: the events wait in the outbox, not as deliveries
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
    """The first pending delivery of each aggregate, when due: a later one waits behind it."""
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


def _followers(heads: list[WebhookDelivery], now: datetime, room: int) -> dict[tuple[int, str], list[WebhookDelivery]]:
    """The pending deliveries queued behind each claimed head, in sequence order, as long as they
    are due. The head's lease covers them: no other relay claims a delivery while an earlier one
    of its aggregate is pending, so the holder of the head may post them after it."""
    if room <= 0:
        return {}
    keys = {(d.subscription_id, d.aggregate_key) for d in heads}
    rows = (
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            subscription_id__in={s for s, _ in keys},
            aggregate_key__in={a for _, a in keys},
            sequence__gt=min(d.sequence for d in heads),
        )
        .select_related("subscription", "event")
        .order_by("sequence")[: room + len(heads)]
    )
    heads_by_key = {(d.subscription_id, d.aggregate_key): d for d in heads}
    followers: dict[tuple[int, str], list[WebhookDelivery]] = {}
    stopped: set[tuple[int, str]] = set()
    taken = 0
    for delivery in rows:
        key = (delivery.subscription_id, delivery.aggregate_key)
        head = heads_by_key.get(key)
        if head is None or key in stopped or delivery.sequence <= head.sequence:
            continue
        chain = followers.setdefault(key, [])
        if delivery.next_attempt_at > now or len(chain) >= MAX_CHAIN - 1 or taken >= room:
            stopped.add(key)  # the chain stays contiguous: nothing after a gap
            continue
        chain.append(delivery)
        taken += 1
    return followers


def _claim(now: datetime, limit: int) -> list[list[WebhookDelivery]]:
    """Lease a batch of due deliveries in a short transaction, as chains (one per subscription and
    aggregate, in sequence order). No transaction stays open while a receiver is slow (an open
    writer would hold back the event feed for everyone). A relay that dies mid-batch leaves
    leases that simply expire, and the deliveries are attempted again."""
    with transaction.atomic():
        heads = list(_due_deliveries(now, limit))
        if not heads:
            return []
        followers = _followers(heads, now, limit - len(heads))
        chains = [[head, *followers.get((head.subscription_id, head.aggregate_key), [])] for head in heads]
        leased = [d.pk for chain in chains for d in chain]
        WebhookDelivery.objects.filter(pk__in=leased).update(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
    return chains


def deliver_due(*, now: datetime | None = None, limit: int = DELIVERY_BATCH) -> int:
    """Attempt every due delivery (one batch); returns how many were attempted."""
    now = now or timezone.now()
    chains = _claim(now, limit)
    if not chains:
        return 0
    result = post_chains(chains, deadline=time.monotonic() + CLAIM_SECONDS / 2)
    succeeded_subscriptions, failed_subscriptions = set(), set()
    for delivery in result.not_attempted:
        delivery.next_attempt_at = now  # not tried this round (the lease is lifted); its turn comes again
    for outcome in result.outcomes:
        delivery = outcome.delivery
        delivery.attempts += 1
        if outcome.succeeded:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = outcome.attempted_at
            succeeded_subscriptions.add(delivery.subscription_id)
        else:
            failed_subscriptions.add(delivery.subscription_id)
            if now - delivery.event.occurred_at > GIVE_UP_AFTER:
                delivery.status = WebhookDelivery.Status.FAILED
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    with transaction.atomic():
        update_rows(
            WebhookDelivery,
            [o.delivery for o in result.outcomes] + result.not_attempted,
            ["attempts", "status", "delivered_at", "next_attempt_at"],
        )
        WebhookAttempt.objects.bulk_create(
            [
                WebhookAttempt(
                    delivery=o.delivery,
                    attempted_at=o.attempted_at,
                    status_code=o.status_code,
                    error=o.error,
                    duration_ms=o.duration_ms,
                    response_excerpt=o.excerpt,
                )
                for o in result.outcomes
            ],
            batch_size=1000,
        )
        _update_subscription_health(now, succeeded_subscriptions, failed_subscriptions - succeeded_subscriptions)
    return len(result.outcomes)


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


# After a commit that recorded events (in the embedded mode): one plain statement, at most once a
# second in a process; a subscription saved or deleted in this process is seen at once. (The relay
# delivers every process's pending events, so another process's new subscription waits a second
# at most.)
_ANY_ACTIVE_SUBSCRIPTION = f"SELECT 1 FROM {WebhookSubscription._meta.db_table} WHERE is_active LIMIT 1"
_SUBSCRIBED_FOR = 1.0  # seconds
_subscribed = {"until": 0.0, "any": False}


def _any_active_subscription() -> bool:
    now = time.monotonic()
    if now >= _subscribed["until"]:
        _subscribed["any"] = bool(sql.fetch(_ANY_ACTIVE_SUBSCRIPTION))
        _subscribed["until"] = now + _SUBSCRIBED_FOR
    return _subscribed["any"]


@receiver(post_save, sender=WebhookSubscription)
@receiver(post_delete, sender=WebhookSubscription)
def _subscriptions_changed(**kwargs) -> None:
    _subscribed["until"] = 0.0


def kick() -> None:
    """Called after a commit that recorded events: relay soon, without piling up tasks."""
    from mes.celery import app

    if app.conf.task_always_eager:
        if _any_active_subscription():
            relay(max_seconds=5.0)
        return
    if not cache.add("mes:relay-kick", 1, timeout=1):
        return
    from mes.tasks import relay_outbox

    try:
        relay_outbox.apply_async(retry=False)
    except Exception:  # noqa: BLE001 - the broker is down: the periodic relay catches up later
        logger.warning("could not queue the outbox relay; the periodic relay will deliver")
