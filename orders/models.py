"""Work centers. (BOMs, routings and work orders are added beside them.)"""

from decimal import Decimal

from django.db import models
from django.db.models import Q


class WorkCenter(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    capacity = models.PositiveSmallIntegerField(default=1, help_text="Parallel units (machines or stations).")
    cost_per_hour = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(capacity__gte=1), name="work_center_capacity_positive")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
