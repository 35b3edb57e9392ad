"""Downtime of work centers: opened with a reason code (and possibly already closed), then
closed. At most one open downtime per work center; every open and close is an event."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from mes.errors import ApplicationError, InvalidInput
from mes.events import record_event
from orders import errors
from orders.models import DowntimeEvent, DowntimeReason, WorkCenter


def _user(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _payload(downtime: DowntimeEvent) -> dict:
    return {
        "downtime_id": downtime.pk,
        "work_center_id": downtime.work_center_id,
        "work_center_code": downtime.work_center.code,
        "reason": downtime.reason.code,
        "is_planned": downtime.reason.is_planned,
        "started_at": downtime.started_at.isoformat(),
        "ended_at": downtime.ended_at.isoformat() if downtime.ended_at else None,
        "duration_minutes": downtime.duration_minutes,
    }


def _reason(code) -> DowntimeReason:
    if isinstance(code, DowntimeReason):
        return code
    reason = DowntimeReason.objects.filter(code=str(code or ""), is_active=True).first()
    if reason is None:
        raise InvalidInput(f"{code} is not a downtime reason code in use.", field="reason", code=errors.UNKNOWN_DOWNTIME_REASON)
    return reason


def _check_end(started_at: dt.datetime, ended_at: dt.datetime | None) -> None:
    if ended_at is not None and ended_at <= started_at:
        raise InvalidInput("The downtime must end after it started.", field="ended_at", code="ends_before_start")


@transaction.atomic
def downtime_open(
    *,
    work_center: WorkCenter,
    reason,
    started_at: dt.datetime,
    ended_at: dt.datetime | None = None,
    note: str = "",
    user,
) -> DowntimeEvent:
    """Record a stop of ``work_center``: open (no ``ended_at``) or already over. A second open
    downtime of the same work center is refused (409 ``downtime_already_open``)."""
    reason = _reason(reason)
    _check_end(started_at, ended_at)
    work_center = WorkCenter.objects.select_for_update(of=("self",)).get(pk=work_center.pk)
    if ended_at is None:
        current = DowntimeEvent.objects.filter(work_center=work_center, ended_at__isnull=True).first()
        if current is not None:
            raise ApplicationError(
                f"{work_center.code} has an open downtime since {current.started_at.isoformat()} ({current.reason.code}): close it first.",
                code=errors.DOWNTIME_ALREADY_OPEN,
                extra={"downtime": current.pk},
            )
    now = timezone.now()
    try:
        with transaction.atomic():
            downtime = DowntimeEvent.objects.create(
                work_center=work_center,
                reason=reason,
                started_at=started_at,
                ended_at=ended_at,
                note=(note or "")[:500],
                opened_by=_user(user),
                opened_at=now,
                closed_by=_user(user) if ended_at else None,
                closed_at=now if ended_at else None,
            )
    except IntegrityError as exc:  # a racing open on a database without the work center lock
        raise ApplicationError(f"{work_center.code} already has an open downtime.", code=errors.DOWNTIME_ALREADY_OPEN) from exc
    record_event(type="downtime.opened", aggregate_type="work_center", aggregate_id=work_center.pk, payload=_payload(downtime), actor=_user(user))
    if ended_at is not None:
        record_event(type="downtime.closed", aggregate_type="work_center", aggregate_id=work_center.pk, payload=_payload(downtime), actor=_user(user))
    return downtime


@transaction.atomic
def downtime_close(*, downtime: DowntimeEvent, ended_at: dt.datetime, user) -> DowntimeEvent:
    """Close an open downtime (409 ``downtime_closed`` when it is closed already)."""
    downtime = DowntimeEvent.objects.select_for_update(of=("self",)).select_related("work_center", "reason").get(pk=downtime.pk)
    if downtime.ended_at is not None:
        raise ApplicationError(
            f"This downtime was closed at {downtime.ended_at.isoformat()}.",
            code=errors.DOWNTIME_CLOSED,
            extra={"ended_at": downtime.ended_at.isoformat()},
        )
    _check_end(downtime.started_at, ended_at)
    downtime.ended_at = ended_at
    downtime.closed_by = _user(user)
    downtime.closed_at = timezone.now()
    downtime.save(update_fields=["ended_at", "closed_by", "closed_at"])
    record_event(
        type="downtime.closed", aggregate_type="work_center", aggregate_id=downtime.work_center_id, payload=_payload(downtime), actor=_user(user)
    )
    return downtime


@transaction.atomic
def reason_upsert(*, model, code: str, name: str, **fields):
    """Create or update a scrap or downtime reason by its code (the demo and the admin's seed)."""
    row, _ = model.objects.update_or_create(code=code, defaults={"name": name, **fields})
    return row
