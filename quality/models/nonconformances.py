"""Nonconformance reports (NCRs): what is wrong, how much, the holds placed, and the disposition."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from mes.quantities import QuantityField
from quality.models.inspections import Disposition, Inspection


class NonconformanceStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISPOSITIONED = "dispositioned", "Dispositioned (rework in progress)"
    CLOSED = "closed", "Closed"


# Disposition of an open NCR: use as is, scrap and return settle it at once (closed); rework keeps
# the material on hold (dispositioned) until the NCR is closed after the rework.
NONCONFORMANCE_TRANSITIONS: dict[str, frozenset[str]] = {
    NonconformanceStatus.OPEN: frozenset({NonconformanceStatus.DISPOSITIONED, NonconformanceStatus.CLOSED}),
    NonconformanceStatus.DISPOSITIONED: frozenset({NonconformanceStatus.CLOSED}),
    NonconformanceStatus.CLOSED: frozenset(),
}


class Nonconformance(models.Model):
    number = models.CharField(max_length=32, unique=True)
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="+")
    inspection = models.ForeignKey(
        Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="nonconformances"
    )
    spc_signal = models.ForeignKey(
        "quality.SpcSignal", null=True, blank=True, on_delete=models.PROTECT, related_name="nonconformances"
    )
    lot = models.ForeignKey("inventory.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="nonconformances")
    serial = models.ForeignKey(
        "inventory.SerialNumber", null=True, blank=True, on_delete=models.PROTECT, related_name="nonconformances"
    )
    serials = models.ManyToManyField("inventory.SerialNumber", blank=True, related_name="batch_nonconformances")
    location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Where untracked material is (tracked material is found by its lot or serials).",
    )
    quantity = QuantityField()
    description = models.TextField()
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True, default="")
    disposition_note = models.TextField(blank=True)
    status = models.CharField(max_length=14, choices=NonconformanceStatus.choices, default=NonconformanceStatus.OPEN)
    holds = models.ManyToManyField("inventory.Hold", blank=True, related_name="nonconformances")
    returned_to = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The supplier location material was returned to.",
    )
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField()
    dispositioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dispositioned_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "nonconformance"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="nonconformance_quantity_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "dispositioned", "closed"]), name="nonconformance_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(disposition=""), name="nonconformance_decided_has_disposition"
            ),
        ]
        indexes = [models.Index(fields=["status", "opened_at"], name="ncr_status_idx")]

    def __str__(self) -> str:
        return self.number


class NonconformanceEvent(models.Model):
    """One step in an NCR's history: who, when, from which status to which, and why."""

    nonconformance = models.ForeignKey(Nonconformance, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=14, choices=NonconformanceStatus.choices, blank=True)
    to_status = models.CharField(max_length=14, choices=NonconformanceStatus.choices)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    note = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["nonconformance_id", "id"]

    def __str__(self) -> str:
        return f"{self.nonconformance_id}: {self.from_status or '—'} → {self.to_status}"
