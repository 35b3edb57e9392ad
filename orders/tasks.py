"""Celery tasks of the orders app: thin and idempotent."""

from celery import shared_task

from orders.services.scheduling import schedule_run_execute


@shared_task(name="orders.run_schedule")
def run_schedule(*, run_id: int) -> str:
    """Compute and publish a schedule run; a run already done, failed or stale is left as it is."""
    return schedule_run_execute(run_id=run_id).status
