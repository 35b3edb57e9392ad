"""Celery tasks of the performance app: thin and idempotent."""

from celery import shared_task

from performance.services import shift_performance_roll_up


@shared_task(name="performance.roll_up_shifts", ignore_result=True, soft_time_limit=600, time_limit=660)
def roll_up_shifts(*, days: int | None = None) -> dict:
    """Keep the shift roll-ups of every active work center up to date (see
    :func:`performance.services.shift_performance_roll_up`); safe to run at any time, twice."""
    return shift_performance_roll_up(days=days).as_dict()
