"""Inspections of a lot, serials or an operation's output, and the measurements taken on them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from quality.models.plans import (
    SPEC_DIGITS,
    SPEC_PLACES,
    Characteristic,
    InspectionPlan,
)
from quality.sampling import INSPECTION_LEVELS, SamplingPlan, Severity


class InspectionStatus(models.TextChoices):
    OPEN = "open", "Open"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


INSPECTION_TRANSITIONS: dict[str, frozenset[str]] = {
    InspectionStatus.OPEN: frozenset({InspectionStatus.PASSED, InspectionStatus.FAILED}),
    InspectionStatus.PASSED: frozenset(),
    InspectionStatus.FAILED: frozenset(),
}


class Disposition(models.TextChoices):
    """What happens to nonconforming material (a nonconformance's decision)."""

    USE_AS_IS = "use_as_is", "Use as is"
    REWORK = "rework", "Rework"
    SCRAP = "scrap", "Scrap"
    RETURN_TO_SUPPLIER = "return_to_supplier", "Return to supplier"


class InspectionDisposition(models.TextChoices):
    """The outcome for the inspected material: accepted, rejected (held, nonconformance open), or
    the disposition of its nonconformance once decided."""

    PENDING = "", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected, on hold"
    USE_AS_IS = "use_as_is", "Used as is"
    REWORK = "rework", "Rework"
    SCRAP = "scrap", "Scrapped"
    RETURN_TO_SUPPLIER = "return_to_supplier", "Returned to supplier"


class Source(models.TextChoices):
    MANUAL = "manual", "By hand"
    RECEIPT = "receipt", "Receipt"
    OPERATION = "operation", "Operation report"
    FINAL = "final", "Work order completion"


class Inspection(models.Model):
    """One inspection lot judged with one single sampling plan.

    The material is a lot, one serial, or a batch of serials received or finished together
    (``serials``); an untracked item's material is identified by ``location`` only. The sampling
    plan used (code letter, n, Ac, Re, severity) is frozen at creation.
    """

    plan = models.ForeignKey(InspectionPlan, on_delete=models.PROTECT, related_name="inspections")
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    lot = models.ForeignKey("inventory.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="inspections")
    serial = models.ForeignKey(
        "inventory.SerialNumber", null=True, blank=True, on_delete=models.PROTECT, related_name="inspections"
    )
    serials = models.ManyToManyField(
        "inventory.SerialNumber", blank=True, related_name="batch_inspections", help_text="A batch of serials inspected as one lot."
    )
    location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Where the material was when the inspection was created.",
    )
    # Soft references to the orders app (work order, work order operation, production report).
    work_order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    operation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    source_document = models.CharField(max_length=64, blank=True, help_text="What caused it, e.g. 'production_report:12'.")
    reference = models.CharField(max_length=100, blank=True)
    lot_size = models.PositiveIntegerField()
    aql = models.DecimalField(max_digits=7, decimal_places=3)
    inspection_level = models.CharField(max_length=4, choices=[(level, level) for level in INSPECTION_LEVELS])
    severity = models.CharField(max_length=10, choices=[(s.value, s.value.capitalize()) for s in Severity])
    code_letter = models.CharField(max_length=2)
    sample_size = models.PositiveIntegerField()
    acceptance_number = models.PositiveIntegerField()
    rejection_number = models.PositiveIntegerField()
    full_inspection = models.BooleanField(default=False)
    is_resubmission = models.BooleanField(
        default=False, help_text="A lot resubmitted after rejection: its result does not count for switching."
    )
    status = models.CharField(max_length=8, choices=InspectionStatus.choices, default=InspectionStatus.OPEN)
    disposition = models.CharField(max_length=20, choices=InspectionDisposition.choices, blank=True, default="")
    nonconforming_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "passed", "failed"]), name="inspection_status_valid"),
            models.CheckConstraint(
                condition=Q(sample_size__gte=1, sample_size__lte=F("lot_size")), name="inspection_sample_within_lot"
            ),
            models.CheckConstraint(
                condition=Q(rejection_number__gt=F("acceptance_number")), name="inspection_re_above_ac"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(decided_at__isnull=False), name="inspection_decided_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["plan", "status"], name="inspection_plan_status_idx"),
            models.Index(fields=["item", "created_at"], name="inspection_item_created_idx"),
        ]

    def __str__(self) -> str:
        return f"Inspection #{self.pk} ({self.plan})"

    @property
    def sampling_plan(self) -> SamplingPlan:
        return SamplingPlan(
            code_letter=self.code_letter,
            sample_size=self.sample_size,
            acceptance_number=self.acceptance_number,
            rejection_number=self.rejection_number,
            severity=Severity(self.severity),
            aql=self.aql,
            full_inspection=self.full_inspection,
        )


class Measurement(models.Model):
    """The result of one characteristic on one sampled unit (``sample_index`` 1 … sample size)."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="measurements")
    characteristic = models.ForeignKey(Characteristic, on_delete=models.PROTECT, related_name="measurements")
    sample_index = models.PositiveIntegerField()
    value = models.DecimalField(max_digits=SPEC_DIGITS, decimal_places=SPEC_PLACES, null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    in_spec = models.BooleanField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["inspection_id", "sample_index", "characteristic_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "characteristic", "sample_index"], name="measurement_unique_per_unit"
            ),
            models.CheckConstraint(
                condition=(Q(value__isnull=False) & Q(passed__isnull=True)) | (Q(value__isnull=True) & Q(passed__isnull=False)),
                name="measurement_value_or_passed",
            ),
            models.CheckConstraint(condition=Q(sample_index__gte=1), name="measurement_sample_index_positive"),
        ]
        indexes = [models.Index(fields=["characteristic", "id"], name="measurement_characteristic_idx")]

    def __str__(self) -> str:
        shown = self.value if self.value is not None else ("pass" if self.passed else "fail")
        return f"#{self.inspection_id} unit {self.sample_index} {self.characteristic_id}: {shown}"
