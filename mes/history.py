"""Audit trail plumbing (django-simple-history): who changed what, when, and why.

Models that are audited declare ``history = HistoricalRecords()``. The user comes from the
request (``HistoryRequestMiddleware``); the reason from the instance's ``_change_reason`` when
a service sets it, else from the request's ``Change-Reason`` header.
"""

from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

CHANGE_REASON_HEADER = "Change-Reason"


def attach_change_reason(sender, instance, history_instance, **kwargs):
    if history_instance.history_change_reason:
        return
    request = getattr(HistoricalRecords.context, "request", None)
    if request is not None:
        reason = request.headers.get(CHANGE_REASON_HEADER, "")[:100]
        if reason:
            history_instance.history_change_reason = reason


def connect() -> None:
    pre_create_historical_record.connect(attach_change_reason, dispatch_uid="mes.history.change_reason")
