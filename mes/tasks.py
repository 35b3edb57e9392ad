"""Platform jobs: the outbox relay and housekeeping. Thin: they call services."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from mes.models import IdempotencyRecord
from mes.webhooks.relay import relay


@shared_task(name="mes.relay_outbox", ignore_result=True, soft_time_limit=120, time_limit=150)
def relay_outbox() -> dict:
    return relay(max_seconds=50.0)


@shared_task(name="mes.purge_idempotency_records", ignore_result=True)
def purge_idempotency_records() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.MES_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
