"""Celery tasks of the quality app: thin and idempotent."""

from celery import shared_task

from quality.models import Characteristic
from quality.services import spc_evaluate


@shared_task(name="quality.evaluate_spc")
def evaluate_spc(*, characteristic_id: int) -> int:
    """Judge a characteristic's new chart points; points already judged are not judged again.
    Returns the number of new signals."""
    characteristic = Characteristic.objects.filter(pk=characteristic_id).first()
    if characteristic is None:
        return 0
    return len(spc_evaluate(characteristic=characteristic))
