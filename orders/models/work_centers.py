"""Work centers and their calendars: weekly shifts and dated exceptions."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


def default_timezone() -> str:
    return settings.TIME_ZONE


def validate_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"'{value}' is not a known time zone name (e.g. 'Europe/Berlin').", code="invalid_timezone")


class Calendar(models.Model):
    """When a work center works: weekly shifts, minus closed exceptions, plus extra ones.

    Shift times are wall-clock times in ``timezone``; the selector
    :func:`orders.selectors.working_intervals` turns them into aware datetimes.
    """

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default=default_timezone, validators=[validate_timezone])
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Shift(models.Model):
    """A weekly working window. ``end`` at or before ``start`` means the shift ends the next day
    (22:00–06:00 is a night shift; 00:00–00:00 is a 24-hour day)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, help_text="0 = Monday … 6 = Sunday (the day the shift starts).")
    start = models.TimeField()
    end = models.TimeField(help_text="At or before the start: the shift ends the next day.")
    name = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="shift_weekday_valid"),
            models.UniqueConstraint(fields=["calendar", "weekday", "start"], name="shift_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


class CalendarException(models.Model):
    """A dated change to the weekly pattern: closed (holiday, maintenance) or extra working time.

    Either whole days (``date`` … ``end_date`` inclusive, in the calendar's time zone) or an exact
    range (``starts_at`` … ``ends_at``).
    """

    class Kind(models.TextChoices):
        CLOSED = "closed", "Closed"
        EXTRA = "extra", "Extra working time"

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="exceptions")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CLOSED)
    date = models.DateField(null=True, blank=True, help_text="First whole day (calendar's time zone).")
    end_date = models.DateField(null=True, blank=True, help_text="Last whole day, inclusive; empty = same as date.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["calendar", "date", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["closed", "extra"]), name="calendar_exception_kind_valid"),
            models.CheckConstraint(
                condition=(
                    Q(date__isnull=False, starts_at__isnull=True, ends_at__isnull=True)
                    | Q(date__isnull=True, end_date__isnull=True, starts_at__isnull=False, ends_at__isnull=False)
                ),
                name="calendar_exception_dates_or_range",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("date")),
                name="calendar_exception_end_date_after_date",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="calendar_exception_range_positive",
            ),
        ]

    def __str__(self) -> str:
        if self.date:
            span = f"{self.date}" + (f"–{self.end_date}" if self.end_date and self.end_date != self.date else "")
        else:
            span = f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"
        return f"{self.get_kind_display()} {span}"

    def clean(self) -> None:
        errors = {}
        if self.date is None and self.starts_at is None and self.ends_at is None:
            errors["date"] = "Give a date (whole days) or starts_at and ends_at (a time range)."
        if self.date is not None and (self.starts_at is not None or self.ends_at is not None):
            errors["starts_at"] = "Give either whole days (date) or a time range (starts_at, ends_at), not both."
        if self.date is None and (self.starts_at is None) != (self.ends_at is None):
            errors["ends_at" if self.ends_at is None else "starts_at"] = "A time range needs both starts_at and ends_at."
        if self.date is None and self.end_date is not None:
            errors["end_date"] = "end_date goes with date."
        if self.date and self.end_date and self.end_date < self.date:
            errors["end_date"] = "end_date must be on or after date."
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "ends_at must be after starts_at."
        if errors:
            raise ValidationError(errors)


class WorkCenter(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    capacity = models.PositiveSmallIntegerField(default=1, help_text="Parallel units (machines or stations).")
    cost_per_hour = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    calendar = models.ForeignKey(
        Calendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_centers",
        help_text="Empty: the work center is always open.",
    )
    allow_split_across_breaks = models.BooleanField(
        default=True, help_text="Whether the scheduler may interrupt an operation at a shift break and continue it later."
    )
    line_side_location = models.ForeignKey(
        "inventory.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where its material is staged: backflushed from here first; the previous operation's output comes here.",
    )
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(capacity__gte=1), name="work_center_capacity_positive")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
