"""Item master, units of measure and the location tree."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class UnitOfMeasure(models.Model):
    code = models.CharField(max_length=16, primary_key=True)
    name = models.CharField(max_length=64)
    decimals = models.PositiveSmallIntegerField(
        default=3, help_text="Decimal places a quantity in this unit may have (0 for pieces)."
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "unit of measure"
        verbose_name_plural = "units of measure"

    def __str__(self) -> str:
        return self.code


class Item(models.Model):
    class Tracking(models.TextChoices):
        NONE = "none", "Not tracked"
        LOT = "lot", "By lot"
        SERIAL = "serial", "By serial number"

    class Kind(models.TextChoices):
        PURCHASED = "purchased", "Purchased"
        MANUFACTURED = "manufactured", "Manufactured"
        PHANTOM = "phantom", "Phantom (kit, never stocked)"

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    tracking = models.CharField(max_length=8, choices=Tracking.choices, default=Tracking.NONE)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PURCHASED)
    unit = models.ForeignKey(UnitOfMeasure, on_delete=models.PROTECT, related_name="items", default="pcs")
    shelf_life_days = models.PositiveIntegerField(null=True, blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(tracking__in=["none", "lot", "serial"]), name="item_tracking_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        if self.tracking == self.Tracking.SERIAL and self.unit_id and self.unit.decimals != 0:
            raise ValidationError({"unit": "A serial-tracked item must be counted in a whole-number unit."})


class Location(models.Model):
    class Kind(models.TextChoices):
        SITE = "site", "Site"
        AREA = "area", "Area"
        BIN = "bin", "Bin"

    class Purpose(models.TextChoices):
        STORAGE = "storage", "Storage"
        RECEIVING = "receiving", "Receiving"
        LINE_SIDE = "line_side", "Line side"
        FINISHED_GOODS = "finished_goods", "Finished goods"
        QUARANTINE = "quarantine", "Quarantine"
        SUPPLIER = "supplier", "Supplier (virtual)"
        CUSTOMER = "customer", "Customer (virtual)"
        SCRAP = "scrap", "Scrap (virtual)"
        PRODUCTION = "production", "Production (virtual)"

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.BIN)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.STORAGE)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        node, seen = self.parent, {self.pk}
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": "A location cannot be inside itself."})
            seen.add(node.pk)
            node = node.parent
