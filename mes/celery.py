"""The Celery application and the one place that sets task defaults.

Tasks are acknowledged late and rejected when their worker dies, so a job interrupted by a
crash is delivered again (after the broker's visibility timeout, one hour, set in
``mes/settings.py``); every task must therefore be idempotent (re-check state, return
early when the work is done). Without a broker the tasks run eagerly in-process.
"""

import os

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")

app = Celery("mes")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=15 * 60,
    task_time_limit=20 * 60,
    task_eager_propagates=True,
    result_expires=24 * 3600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    timezone="UTC",
)
app.conf.beat_schedule = {
    "relay-outbox": {"task": "mes.relay_outbox", "schedule": 5.0},
    "purge-idempotency-records": {"task": "mes.purge_idempotency_records", "schedule": 3600.0},
    "roll-up-shift-performance": {"task": "performance.roll_up_shifts", "schedule": 300.0},
}
app.autodiscover_tasks()


@task_postrun.connect
def _pause_before_acknowledging(sender=None, **_) -> None:
    """Tests may stop a worker between a job's end and its acknowledgement (inert otherwise)."""
    from mes.pause import pause_point

    pause_point(f"{sender.name}.returned")


@app.task(name="mes.ping")
def ping(*, value: str = "pong") -> str:
    """Round-trip check used by the health endpoint's tests and by operators."""
    return value
