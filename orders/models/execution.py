"""Shop-floor execution: operation history, production reports with what they consumed and
produced, reason codes, and downtime.

Nothing here is ever deleted or edited after the fact: a wrong report is corrected by a
reversing report (``kind = reversal``, negative quantities) that points at it, and the
genealogy links it made are marked reversed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from mes.quantities import QuantityField
from orders.models.work_orders import OperationStatus

O = OperationStatus

# Every allowed move of a work order operation. ``pending → ready`` happens by itself (the
# order's release readies the first operation; output of the previous operation readies the
# next); the others are the operator's actions: start, pause, resume, complete.
OPERATION_TRANSITIONS: dict[str, frozenset[str]] = {
    O.PENDING: frozenset({O.READY}),
    O.READY: frozenset({O.RUNNING}),
    O.RUNNING: frozenset({O.PAUSED, O.DONE}),
    O.PAUSED: frozenset({O.RUNNING, O.DONE}),
    O.DONE: frozenset(),
}

ACTIVE_OPERATION_STATUSES = frozenset({O.READY, O.RUNNING, O.PAUSED})


class OperationEvent(models.Model):
    """One transition of an operation: who did it, the server's time, the tablet's own time, why."""

    class Action(models.TextChoices):
        READY = "ready", "Became ready"
        START = "start", "Started"
        PAUSE = "pause", "Paused"
        RESUME = "resume", "Resumed"
        COMPLETE = "complete", "Completed"

    operation = models.ForeignKey("orders.WorkOrderOperation", on_delete=models.PROTECT, related_name="history")
    action = models.CharField(max_length=8, choices=Action.choices)
    from_status = models.CharField(max_length=8, choices=OperationStatus.choices)
    to_status = models.CharField(max_length=8, choices=OperationStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(default=timezone.now, help_text="Server time.")
    recorded_at = models.DateTimeField(null=True, blank=True, help_text="The client's own time, as sent.")

    class Meta:
        ordering = ["operation_id", "id"]
        verbose_name = "operation event"
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["ready", "start", "pause", "resume", "complete"]), name="operation_event_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation_id}: {self.from_status} → {self.to_status}"


class ScrapReason(models.Model):
    """A maintained reason code for scrapped quantities (admin-maintained)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class DowntimeReason(models.Model):
    """A maintained reason code for a work center standing still."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    is_planned = models.BooleanField(default=False, help_text="Planned stops (breaks, maintenance) are not availability losses.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProductionReport(models.Model):
    """An operator's confirmation against a running operation, or the reversal of one."""

    class Kind(models.TextChoices):
        REPORT = "report", "Report"
        REVERSAL = "reversal", "Reversal"

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.REPORT)
    # Indexed with the id (Meta.indexes), which serves every look-up by operation or order too.
    operation = models.ForeignKey("orders.WorkOrderOperation", on_delete=models.PROTECT, related_name="reports", db_index=False)
    work_order = models.ForeignKey("orders.WorkOrder", on_delete=models.PROTECT, related_name="reports", db_index=False)
    quantity_good = QuantityField(help_text="Negative on a reversal.")
    quantity_scrap = QuantityField(help_text="Negative on a reversal.")
    scrap_reason = models.ForeignKey(ScrapReason, null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    labor_minutes = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    reason = models.CharField(max_length=500, blank=True, help_text="Why a report was reversed.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, help_text="Server time.")
    recorded_at = models.DateTimeField(null=True, blank=True, help_text="The client's own time, as sent.")

    class Meta:
        ordering = ["id"]
        permissions = [("reverse_productionreport", "Can reverse production reports (supervisor)")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["report", "reversal"]), name="production_report_kind_valid"),
            models.CheckConstraint(
                condition=(Q(kind="report") & Q(reverses__isnull=True) & Q(quantity_good__gte=0) & Q(quantity_scrap__gte=0))
                | (Q(kind="reversal") & Q(reverses__isnull=False) & Q(quantity_good__lte=0) & Q(quantity_scrap__lte=0)),
                name="production_report_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(labor_minutes__isnull=True) | Q(labor_minutes__gte=0), name="production_report_labor_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["operation", "id"], name="report_operation_idx"),
            models.Index(fields=["work_order", "id"], name="report_work_order_idx"),
            models.Index(fields=["created_at"], name="report_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}: {self.quantity_good} good, {self.quantity_scrap} scrap"


class ReportConsumption(models.Model):
    """A component a report consumed: one stock move (negative quantity on a reversal)."""

    report = models.ForeignKey(ProductionReport, on_delete=models.PROTECT, related_name="consumed")
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey("inventory.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    serial = models.ForeignKey("inventory.SerialNumber", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="+")
    quantity = QuantityField()
    backflushed = models.BooleanField(default=False, help_text="Issued from the BOM quantity, not scanned.")
    move = models.OneToOneField("inventory.StockMove", on_delete=models.PROTECT, related_name="report_consumption")

    class Meta:
        ordering = ["report_id", "id"]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="report_consumption_quantity_not_zero")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.item_id}"


class ReportOutput(models.Model):
    """What a report did with the operation's own product: units produced (the first operation),
    passed on to the next operation or into finished goods, or scrapped."""

    class Action(models.TextChoices):
        PRODUCED = "produced", "Produced"
        PASSED = "passed", "Passed on"
        COUNTED = "counted", "Counted (no stock move)"
        SCRAPPED = "scrapped", "Scrapped"

    report = models.ForeignKey(ProductionReport, on_delete=models.PROTECT, related_name="outputs")
    action = models.CharField(max_length=8, choices=Action.choices)
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey("inventory.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    serial = models.ForeignKey("inventory.SerialNumber", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Where the units are now."
    )
    quantity = QuantityField()
    move = models.OneToOneField(
        "inventory.StockMove", null=True, blank=True, on_delete=models.PROTECT, related_name="report_output"
    )

    class Meta:
        ordering = ["report_id", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="report_output_quantity_not_zero"),
            models.CheckConstraint(
                condition=Q(action__in=["produced", "passed", "counted", "scrapped"]), name="report_output_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.quantity} × {self.item_id}"


class ReportGenealogy(models.Model):
    """A genealogy link a report made; marked reversed (never deleted) when the report is reversed."""

    report = models.ForeignKey(ProductionReport, on_delete=models.PROTECT, related_name="genealogy")
    link = models.OneToOneField("inventory.GenealogyLink", on_delete=models.PROTECT, related_name="report_link")
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        ProductionReport, null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_genealogy"
    )

    class Meta:
        ordering = ["report_id", "id"]
        verbose_name = "report genealogy link"
        constraints = [
            models.CheckConstraint(
                condition=(Q(reversed_at__isnull=True) & Q(reversed_by__isnull=True))
                | (Q(reversed_at__isnull=False) & Q(reversed_by__isnull=False)),
                name="report_genealogy_reversal_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"report {self.report_id}: link {self.link_id}{' (reversed)' if self.reversed_at else ''}"


class DowntimeEvent(models.Model):
    """A work center standing still, with a reason code; open while ``ended_at`` is empty."""

    work_center = models.ForeignKey("orders.WorkCenter", on_delete=models.PROTECT, related_name="downtime")
    reason = models.ForeignKey(DowntimeReason, on_delete=models.PROTECT, related_name="events")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now, help_text="Server time of the record.")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Server time of the close.")

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "downtime"
        verbose_name_plural = "downtime"
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")), name="downtime_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["work_center"], condition=Q(ended_at__isnull=True), name="downtime_one_open_per_work_center"
            ),
        ]
        indexes = [models.Index(fields=["work_center", "started_at"], name="downtime_wc_start_idx")]

    def __str__(self) -> str:
        return f"{self.work_center_id} {self.reason_id} from {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def duration_minutes(self):
        if self.ended_at is None:
            return None
        return round((self.ended_at - self.started_at).total_seconds() / 60, 2)
