"""Work orders, their operations and materials, and their status history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from mes.quantities import ZERO, QuantityField


class WorkOrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


S = WorkOrderStatus

# Every allowed move of a work order. ``on_hold`` goes back (resume) to the state it was held in;
# cancelling is allowed until production starts (a hold of an order already in progress cannot be
# cancelled: material has been issued and output reported).
WORK_ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.RELEASED, S.CANCELLED}),
    S.RELEASED: frozenset({S.IN_PROGRESS, S.ON_HOLD, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.ON_HOLD}),
    S.ON_HOLD: frozenset({S.RELEASED, S.IN_PROGRESS, S.CANCELLED}),
    S.COMPLETED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# States in which the order holds material reservations and operations.
OPEN_STATUSES = frozenset({S.RELEASED, S.IN_PROGRESS, S.ON_HOLD})


class WorkOrder(models.Model):
    number = models.CharField(max_length=32, unique=True, help_text="Generated (WO-000123) when not given.")
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="work_orders")
    quantity = QuantityField(validators=[MinValueValidator(Decimal("0.001"))])
    due_at = models.DateTimeField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        default=50,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="0–100, higher is more urgent.",
    )
    status = models.CharField(max_length=12, choices=WorkOrderStatus.choices, default=WorkOrderStatus.DRAFT)
    held_from = models.CharField(
        max_length=12, choices=WorkOrderStatus.choices, blank=True, help_text="While on hold: the state resume returns to."
    )
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    bom = models.ForeignKey(
        "orders.BillOfMaterials",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
        help_text="Pinned by the planner, or frozen at release (the revision effective then).",
    )
    routing = models.ForeignKey(
        "orders.Routing",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
        help_text="Pinned by the planner, or frozen at release (the revision effective then).",
    )
    release_time = models.DateTimeField(
        null=True, blank=True, help_text="Earliest start for the scheduler; set to the release time if empty."
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="work_order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in WorkOrderStatus]), name="work_order_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="work_order_status_due_idx"),
            models.Index(fields=["item", "status"], name="work_order_item_status_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def can_go_to(self, target: str) -> bool:
        return target in WORK_ORDER_TRANSITIONS[self.status]


class WorkOrderEvent(models.Model):
    """One transition of a work order: who, when, from, to, why."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, choices=WorkOrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=WorkOrderStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["work_order_id", "id"]

    def __str__(self) -> str:
        return f"{self.work_order_id}: {self.from_status or '—'} → {self.to_status}"


class OperationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    DONE = "done", "Done"


class WorkOrderOperation(models.Model):
    """A step of a released work order, copied from its routing operation."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="operations")
    sequence = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    work_center = models.ForeignKey("orders.WorkCenter", on_delete=models.PROTECT, related_name="operations")
    setup_minutes = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    run_minutes_per_unit = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    status = models.CharField(max_length=8, choices=OperationStatus.choices, default=OperationStatus.PENDING)
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    actual_start = models.DateTimeField(null=True, blank=True)
    actual_end = models.DateTimeField(null=True, blank=True)
    quantity_good = QuantityField(default=ZERO)
    quantity_scrap = QuantityField(default=ZERO)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["work_order_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "sequence"], name="work_order_operation_unique_sequence"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in OperationStatus]), name="work_order_operation_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(quantity_good__gte=0, quantity_scrap__gte=0), name="work_order_operation_quantities_non_negative"
            ),
        ]
        indexes = [models.Index(fields=["work_center", "status"], name="wo_operation_wc_status_idx")]

    def __str__(self) -> str:
        return f"{self.work_order_id}/{self.sequence} {self.name}"


class WorkOrderMaterial(models.Model):
    """What a released work order needs of one component at one operation (the exploded BOM,
    phantoms resolved), and how much of it is reserved and issued."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="materials")
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="+")
    operation_sequence = models.PositiveIntegerField(help_text="The work order operation that consumes it.")
    quantity_required = QuantityField()
    quantity_reserved = QuantityField(default=ZERO, help_text="Reserved at release (less than required when short).")
    quantity_issued = QuantityField(default=ZERO)
    reservation_id = models.BigIntegerField(null=True, blank=True, help_text="The inventory reservation made at release.")

    class Meta:
        ordering = ["work_order_id", "operation_sequence", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "item", "operation_sequence"], name="work_order_material_unique"),
            models.CheckConstraint(
                condition=Q(quantity_required__gt=0, quantity_reserved__gte=0, quantity_issued__gte=0),
                name="work_order_material_quantities_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id}: {self.quantity_required} × {self.item_id} @ {self.operation_sequence}"

    @property
    def shortage(self) -> Decimal:
        return max(self.quantity_required - self.quantity_reserved - self.quantity_issued, ZERO)
