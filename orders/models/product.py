"""How a product is made: bills of materials and routings, each with revisions and effectivity.

Effectivity is a half-open window of dates ``[effective_from, effective_to)``: a revision that ends
on the 1st and its successor that starts on the 1st do not overlap. An empty bound is open.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from mes.quantities import QuantityField


class RevisionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    OBSOLETE = "obsolete", "Obsolete"


class Revisioned(models.Model):
    """Fields shared by BOM and routing headers."""

    revision = models.CharField(max_length=16)
    status = models.CharField(max_length=8, choices=RevisionStatus.choices, default=RevisionStatus.DRAFT)
    effective_from = models.DateField(null=True, blank=True, help_text="First day in effect (empty: always).")
    effective_to = models.DateField(null=True, blank=True, help_text="First day no longer in effect (empty: open-ended).")
    description = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        if self.effective_from and self.effective_to and self.effective_to <= self.effective_from:
            raise ValidationError({"effective_to": "effective_to must be after effective_from."})

    def is_effective_on(self, day: dt.date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day < self.effective_to
        )

    def overlaps(self, other: "Revisioned") -> bool:
        starts_before_other_ends = other.effective_to is None or self.effective_from is None or self.effective_from < other.effective_to
        other_starts_before_end = self.effective_to is None or other.effective_from is None or other.effective_from < self.effective_to
        return starts_before_other_ends and other_starts_before_end


def _revision_constraints(prefix: str) -> list:
    return [
        models.UniqueConstraint(fields=["item", "revision"], name=f"{prefix}_unique_item_revision"),
        models.CheckConstraint(condition=Q(status__in=["draft", "active", "obsolete"]), name=f"{prefix}_status_valid"),
        models.CheckConstraint(
            condition=Q(effective_from__isnull=True) | Q(effective_to__isnull=True) | Q(effective_to__gt=F("effective_from")),
            name=f"{prefix}_effectivity_ordered",
        ),
    ]


class BillOfMaterials(Revisioned):
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="boms")

    class Meta:
        ordering = ["item_id", "revision"]
        verbose_name = "bill of materials"
        verbose_name_plural = "bills of materials"
        constraints = _revision_constraints("bom")
        indexes = [models.Index(fields=["item", "status"], name="bom_item_status_idx")]

    def __str__(self) -> str:
        return f"BOM {self.item.code} rev {self.revision}"


class BOMLine(models.Model):
    """One component of a BOM: ``quantity`` per one unit of the parent, plus ``scrap_factor``
    (0.02 = 2 % extra), consumed at the routing operation ``operation_sequence`` (empty: the first).
    A phantom line is exploded through: its own components are required instead of it."""

    bom = models.ForeignKey(BillOfMaterials, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0, help_text="Order of the line within the BOM.")
    component = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="used_in_lines")
    quantity = QuantityField(validators=[MinValueValidator(Decimal("0.001"))], help_text="Per one unit of the parent.")
    unit = models.ForeignKey("inventory.UnitOfMeasure", on_delete=models.PROTECT, related_name="+")
    scrap_factor = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Extra fraction lost in production, e.g. 0.02 for 2 %.",
    )
    operation_sequence = models.PositiveIntegerField(null=True, blank=True, help_text="Routing operation where consumed.")
    is_phantom = models.BooleanField(default=False, help_text="Exploded through, never stocked.")

    class Meta:
        ordering = ["bom_id", "position", "id"]
        verbose_name = "BOM line"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bom_line_quantity_positive"),
            models.CheckConstraint(condition=Q(scrap_factor__gte=0, scrap_factor__lt=1), name="bom_line_scrap_factor_range"),
        ]
        indexes = [models.Index(fields=["component"], name="bom_line_component_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} {self.unit_id} × {self.component_id}"

    def clean(self) -> None:
        if self.scrap_factor is not None and self.scrap_factor >= 1:
            raise ValidationError({"scrap_factor": "The scrap factor is a fraction below 1 (0.02 = 2 %)."})


class Routing(Revisioned):
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="routings")

    class Meta:
        ordering = ["item_id", "revision"]
        constraints = _revision_constraints("routing")
        indexes = [models.Index(fields=["item", "status"], name="routing_item_status_idx")]

    def __str__(self) -> str:
        return f"Routing {self.item.code} rev {self.revision}"


class RoutingOperation(models.Model):
    routing = models.ForeignKey(Routing, on_delete=models.CASCADE, related_name="operations")
    sequence = models.PositiveIntegerField(help_text="Order of the operation in the routing (10, 20, …).")
    name = models.CharField(max_length=100)
    work_center = models.ForeignKey("orders.WorkCenter", on_delete=models.PROTECT, related_name="routing_operations")
    setup_minutes = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    run_minutes_per_unit = models.DecimalField(
        max_digits=12, decimal_places=4, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["routing_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["routing", "sequence"], name="routing_operation_unique_sequence"),
            models.CheckConstraint(
                condition=Q(setup_minutes__gte=0, run_minutes_per_unit__gte=0), name="routing_operation_times_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sequence} {self.name}"
