"""Statistical process control signals: a Western Electric rule broken on a characteristic's chart."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from quality.models.plans import Characteristic


class SpcSignal(models.Model):
    """One rule broken at one point of a control chart, found by the SPC job.

    A point is identified by ``point_key``, the id of its last measurement (points are
    re-numbered as the chart's window moves; measurements are not).
    """

    characteristic = models.ForeignKey(Characteristic, on_delete=models.PROTECT, related_name="spc_signals")
    rule = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=200)
    chart_type = models.CharField(max_length=8, choices=Characteristic.Chart.choices)
    point_index = models.PositiveIntegerField(help_text="Index of the point on the chart when it was evaluated.")
    point_key = models.BigIntegerField()
    measurement_ids = models.JSONField(default=list)
    value = models.FloatField()
    centre = models.FloatField()
    ucl = models.FloatField()
    lcl = models.FloatField()
    created_at = models.DateTimeField(default=timezone.now)
    handled = models.BooleanField(default=False)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "SPC signal"
        constraints = [
            models.UniqueConstraint(fields=["characteristic", "rule", "point_key"], name="spc_signal_unique_point_rule"),
            models.CheckConstraint(condition=Q(rule__gte=1, rule__lte=4), name="spc_signal_rule_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.characteristic} rule {self.rule} at point {self.point_index}"
