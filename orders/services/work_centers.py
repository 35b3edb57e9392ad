"""Writes of work centers and calendars (shifts and exceptions replaced with their calendar)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from orders.models import Calendar, CalendarException, Shift, WorkCenter
from orders.services.common import apply_fields, build_children, upsert


@transaction.atomic
def work_center_create(*, data: dict[str, Any], user=None) -> WorkCenter:
    work_center = WorkCenter()
    apply_fields(work_center, data)
    work_center.save()
    return work_center


@transaction.atomic
def work_center_update(*, work_center: WorkCenter, data: dict[str, Any], user=None) -> WorkCenter:
    work_center = WorkCenter.objects.select_for_update(of=("self",)).get(pk=work_center.pk)
    apply_fields(work_center, data)
    work_center.save()
    return work_center


def work_center_upsert_by_external_id(*, external_id: str, data: dict[str, Any], user=None) -> tuple[WorkCenter, bool]:
    return upsert(
        WorkCenter,
        external_id=external_id,
        create=lambda: work_center_create(data={**data, "external_id": external_id}, user=user),
        update=lambda wc: work_center_update(work_center=wc, data=data, user=user),
    )


def _save_calendar(calendar: Calendar, data: dict[str, Any]) -> Calendar:
    data = dict(data)
    shifts = data.pop("shifts", None)
    exceptions = data.pop("exceptions", None)
    apply_fields(calendar, data)
    shift_rows = build_children(Shift, shifts, prefix="shifts", exclude=["calendar"]) if shifts is not None else None
    exception_rows = (
        build_children(CalendarException, exceptions, prefix="exceptions", exclude=["calendar"]) if exceptions is not None else None
    )
    if shift_rows is not None:
        seen: dict[tuple, int] = {}
        for index, shift in enumerate(shift_rows):
            key = (shift.weekday, shift.start)
            if key in seen:
                raise ValidationError({f"shifts.{index}.start": [f"Shift {seen[key]} already starts then on that day."]})
            seen[key] = index
    calendar.save()
    if shift_rows is not None:
        calendar.shifts.all().delete()
        for shift in shift_rows:
            shift.calendar = calendar
        Shift.objects.bulk_create(shift_rows)
    if exception_rows is not None:
        calendar.exceptions.all().delete()
        for exception in exception_rows:
            exception.calendar = calendar
        CalendarException.objects.bulk_create(exception_rows)
    return calendar


@transaction.atomic
def calendar_create(*, data: dict[str, Any], user=None) -> Calendar:
    """A calendar with its weekly ``shifts`` and dated ``exceptions`` (lists of field dicts)."""
    return _save_calendar(Calendar(), data)


@transaction.atomic
def calendar_update(*, calendar: Calendar, data: dict[str, Any], user=None) -> Calendar:
    """Update the calendar; ``shifts`` / ``exceptions`` when given replace the old ones at once."""
    calendar = Calendar.objects.select_for_update(of=("self",)).get(pk=calendar.pk)
    return _save_calendar(calendar, data)


def calendar_upsert_by_external_id(*, external_id: str, data: dict[str, Any], user=None) -> tuple[Calendar, bool]:
    return upsert(
        Calendar,
        external_id=external_id,
        create=lambda: calendar_create(data={**data, "external_id": external_id}, user=user),
        update=lambda calendar: calendar_update(calendar=calendar, data=data, user=user),
    )
