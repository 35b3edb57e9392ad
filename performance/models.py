"""Shift roll-ups of the figures OEE is made of, so a month of a work center answers from a few
hundred rows instead of every report and downtime of the month.

A roll-up row is a cache of :func:`performance.selectors.measure` for one closed shift of one
work center; the OEE selector uses a row only while nothing written after it could have changed
it (see :mod:`performance.selectors.oee`) and computes everything else live.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from mes.quantities import ZERO, QuantityField


class PeriodKind(models.TextChoices):
    SHIFT = "shift", "Shift of the calendar"
    OFF_SHIFT = "off_shift", "Between shifts"
    BLOCK = "block", "Eight-hour block (work center without a calendar)"


class ShiftPerformance(models.Model):
    """What one work center had and did in one shift: the additive inputs of OEE."""

    work_center = models.ForeignKey("orders.WorkCenter", on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=PeriodKind.choices, default=PeriodKind.SHIFT)
    name = models.CharField(max_length=64, blank=True, help_text="The calendar's shift name, or its hours.")
    operating_time = models.DurationField(default=dt.timedelta, help_text="Working time of the calendar in the shift.")
    planned_downtime = models.DurationField(default=dt.timedelta, help_text="Planned stops within the working time.")
    unplanned_downtime = models.DurationField(default=dt.timedelta, help_text="Other stops within the planned busy time.")
    good_quantity = QuantityField(default=ZERO)
    scrap_quantity = QuantityField(default=ZERO)
    ideal_unit_minutes = models.DecimalField(
        max_digits=24,
        decimal_places=7,
        default=Decimal(0),
        help_text="Σ run minutes per unit × units handled (good + scrap), before dividing by the capacity.",
    )
    reports = models.PositiveIntegerField(default=0, help_text="Production reports counted.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["work_center_id", "starts_at"]
        verbose_name = "shift performance"
        verbose_name_plural = "shift performance"
        constraints = [
            models.UniqueConstraint(fields=["work_center", "starts_at"], name="shift_performance_unique_start"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_performance_ends_after_start"),
            models.CheckConstraint(
                condition=Q(kind__in=["shift", "off_shift", "block"]), name="shift_performance_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_center_id} {self.name} {self.starts_at:%Y-%m-%d %H:%M}"


class PlannerDashboard(ShiftPerformance):
    """The planner's dashboard in the admin (orders by status, late orders, OEE of the last
    shifts); a proxy so the admin index lists it beside the models."""

    class Meta:
        proxy = True
        verbose_name = "planner dashboard"
        verbose_name_plural = "planner dashboard"
