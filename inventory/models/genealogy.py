"""Genealogy (what went into what) and recall jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from mes.quantities import QuantityField


def node_key(*, lot_id: int | None = None, serial_id: int | None = None) -> int:
    """The genealogy node of a lot or serial as one integer: ``-serial id`` for a serial, ``+lot id`` else."""
    if serial_id is not None:
        return -int(serial_id)
    if lot_id is None:
        raise ValueError("a genealogy node is a lot or a serial")
    return int(lot_id)


class GenealogyLink(models.Model):
    """Consumed lot/serial and quantity → produced lot/serial, by an operation of a work order.

    A node is the serial when there is one, else the lot. ``consumed_key``/``produced_key`` hold
    that node as one integer (see :func:`node_key`), so each step of a trace is one lookup in one
    of the two covering indexes. The lot/serial foreign keys carry no index of their own: lots and
    serials are never deleted once they have a history, and the keys serve every read.
    """

    consumed_lot = models.ForeignKey(
        "inventory.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    consumed_serial = models.ForeignKey(
        "inventory.SerialNumber", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    produced_lot = models.ForeignKey(
        "inventory.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    produced_serial = models.ForeignKey(
        "inventory.SerialNumber", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    consumed_key = models.BigIntegerField(editable=False)
    produced_key = models.BigIntegerField(editable=False)
    quantity = QuantityField()
    # Soft references (inventory imports neither orders nor quality).
    work_order_id = models.BigIntegerField(null=True, blank=True)
    operation_id = models.BigIntegerField(null=True, blank=True)
    document_type = models.CharField(max_length=40, blank=True)
    document_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = "genealogy link"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="genealogy_quantity_positive"),
            models.CheckConstraint(
                condition=(Q(consumed_serial__isnull=False) & Q(consumed_key=-F("consumed_serial")))
                | (Q(consumed_serial__isnull=True) & Q(consumed_lot__isnull=False) & Q(consumed_key=F("consumed_lot"))),
                name="genealogy_consumed_key_matches",
            ),
            models.CheckConstraint(
                condition=(Q(produced_serial__isnull=False) & Q(produced_key=-F("produced_serial")))
                | (Q(produced_serial__isnull=True) & Q(produced_lot__isnull=False) & Q(produced_key=F("produced_lot"))),
                name="genealogy_produced_key_matches",
            ),
            models.CheckConstraint(condition=~Q(consumed_key=F("produced_key")), name="genealogy_not_into_itself"),
        ]
        indexes = [
            # Backward (what went into X): produced → consumed with what a trace tree shows of the
            # link, so a backward trace reads no table pages. Forward (where did Y go): the keys
            # only, as narrow as can be for the recall walk over hundreds of thousands of nodes.
            models.Index(
                fields=["produced_key", "consumed_key", "quantity", "operation_id", "work_order_id", "id"],
                name="genealogy_backward_cover_idx",
            ),
            models.Index(fields=["consumed_key", "produced_key"], name="genealogy_forward_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.consumed_key} -> {self.produced_key} ({self.quantity})"

    def save(self, *args, **kwargs):
        self.consumed_key = node_key(lot_id=self.consumed_lot_id, serial_id=self.consumed_serial_id)
        self.produced_key = node_key(lot_id=self.produced_lot_id, serial_id=self.produced_serial_id)
        super().save(*args, **kwargs)


class RecallJob(models.Model):
    """A forward trace of a suspect lot or serial to every affected finished serial/lot (a Celery job)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    TRANSITIONS = {
        Status.QUEUED: {Status.RUNNING, Status.FAILED},
        # A worker lost mid-job hands the job to the next delivery, which starts it over.
        Status.RUNNING: {Status.RUNNING, Status.DONE, Status.FAILED},
        Status.DONE: set(),
        Status.FAILED: set(),
    }

    lot = models.ForeignKey("inventory.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="recalls")
    serial = models.ForeignKey(
        "inventory.SerialNumber", null=True, blank=True, on_delete=models.PROTECT, related_name="recalls"
    )
    reason = models.CharField(max_length=500)
    place_holds = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    affected_count = models.PositiveIntegerField(default=0)
    holds_placed = models.PositiveIntegerField(default=0)
    report = models.TextField(
        blank=True,
        help_text="Every affected end product, one CSV row each (the header names the columns).",
    )
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "recall"
        constraints = [
            models.CheckConstraint(
                condition=(Q(lot__isnull=False) & Q(serial__isnull=True)) | (Q(lot__isnull=True) & Q(serial__isnull=False)),
                name="recall_of_lot_or_serial",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="recall_status_valid"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="recall_progress_percent"),
        ]

    def __str__(self) -> str:
        return f"recall #{self.pk} of {self.lot or self.serial}"
