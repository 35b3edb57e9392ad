"""Celery tasks of the inventory app: thin and idempotent."""

from celery import shared_task

from inventory.services.recall import recall_run


@shared_task(name="inventory.run_recall")
def run_recall(*, job_id: int) -> str:
    """Trace a recall; a job already done or failed is left as it is."""
    return recall_run(job_id=job_id).status
