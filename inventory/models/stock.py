"""Lots, serial numbers, the stock ledger, balances, reservations and holds.

``StockMove`` is append-only: a move takes ``quantity`` out of ``from_location`` and puts it into
``to_location`` (one side is empty for receipts, production, issues and scrap). ``StockBalance``
(item, location, lot) always equals the sum of the moves into it minus the moves out of it; the
services in ``inventory.services`` write both in one transaction, and
``inventory.selectors.ledger_discrepancies()`` proves it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from mes.quantities import ZERO, QuantityField


class Lot(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        ON_HOLD = "on_hold", "On hold"
        CONSUMED = "consumed", "Consumed"
        SCRAPPED = "scrapped", "Scrapped"

    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="lots")
    code = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    expires_on = models.DateField(null=True, blank=True)
    supplier_lot = models.CharField(max_length=64, blank=True, help_text="The supplier's own lot reference.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["item_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["item", "code"], name="lot_code_unique_per_item"),
            models.CheckConstraint(
                condition=Q(status__in=["available", "on_hold", "consumed", "scrapped"]), name="lot_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["code"], name="lot_code_idx")]

    def __str__(self) -> str:
        return self.code

    def is_expired(self, on=None) -> bool:
        return self.expires_on is not None and self.expires_on < (on or timezone.localdate())


class SerialNumber(models.Model):
    """One physical unit. In stock when ``current_location`` is set (status available or on hold);
    ``consumed`` means it left stock (issued into a product, adjusted out), ``scrapped`` means scrapped."""

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        ON_HOLD = "on_hold", "On hold"
        CONSUMED = "consumed", "Consumed"
        SCRAPPED = "scrapped", "Scrapped"

    # Looked up by the unique (item, code) index, which leads with the item.
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="serials", db_index=False)
    code = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    current_location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="serials"
    )
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="serials")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["item_id", "code"]
        verbose_name = "serial number"
        constraints = [
            models.UniqueConstraint(fields=["item", "code"], name="serial_code_unique_per_item"),
            models.CheckConstraint(
                condition=Q(status__in=["available", "on_hold", "consumed", "scrapped"]), name="serial_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(current_location__isnull=True) | Q(status__in=["available", "on_hold"]),
                name="serial_located_only_in_stock",
            ),
        ]
        indexes = [models.Index(fields=["code"], name="serial_code_idx")]

    def __str__(self) -> str:
        return self.code

    @property
    def in_stock(self) -> bool:
        return self.current_location_id is not None


class StockMove(models.Model):
    """One line of the append-only stock ledger. Never updated or deleted; see ``reverses``."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        ISSUE = "issue", "Issue to production"
        PRODUCTION = "production", "Production output"
        TRANSFER = "transfer", "Transfer"
        ADJUSTMENT = "adjustment", "Adjustment"
        SCRAP = "scrap", "Scrap"
        REVERSAL = "reversal", "Reversal"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="moves", db_index=False)
    quantity = QuantityField()
    from_location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="moves_out"
    )
    to_location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="moves_in"
    )
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="moves", db_index=False)
    serial = models.ForeignKey(SerialNumber, null=True, blank=True, on_delete=models.PROTECT, related_name="moves")
    reason = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=100, blank=True, help_text="Delivery note, ERP document, etc.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    reservation = models.ForeignKey(
        "inventory.Reservation", null=True, blank=True, on_delete=models.PROTECT, related_name="moves"
    )
    # Soft references to the document that caused the move (inventory imports no other app).
    work_order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    operation_id = models.BigIntegerField(null=True, blank=True)
    document_type = models.CharField(max_length=40, blank=True)
    document_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="move_quantity_positive"),
            models.CheckConstraint(
                condition=Q(from_location__isnull=False) | Q(to_location__isnull=False), name="move_has_a_location"
            ),
            models.CheckConstraint(
                condition=Q(from_location__isnull=True)
                | Q(to_location__isnull=True)
                | ~Q(from_location=F("to_location")),
                name="move_locations_differ",
            ),
            models.CheckConstraint(condition=Q(serial__isnull=True) | Q(quantity=1), name="move_serial_quantity_one"),
            models.CheckConstraint(
                condition=Q(kind__in=["receipt", "issue", "production", "transfer", "adjustment", "scrap", "reversal"]),
                name="move_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(kind="reversal"), name="move_only_reversals_reverse"
            ),
        ]
        indexes = [
            models.Index(fields=["item", "id"], name="move_item_idx"),
            models.Index(fields=["lot", "id"], name="move_lot_idx"),
            models.Index(fields=["created_at"], name="move_created_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.quantity} {self.item_id}"


class StockBalance(models.Model):
    """On-hand quantity of an item at a location (per lot). Serials: see ``SerialNumber.current_location``.

    ``reserved`` is what open reservations pinned to exactly this location and lot hold back;
    reservations for an item as a whole (a work order's) are counted by the availability selectors.
    """

    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="balances")
    location = models.ForeignKey("inventory.Location", on_delete=models.PROTECT, related_name="balances")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="balances")
    quantity = QuantityField(default=ZERO)
    reserved = QuantityField(default=ZERO)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item_id", "location_id", "lot_id"]
        constraints = [
            # Two partial constraints so a NULL lot is unique too, on SQLite and PostgreSQL alike.
            models.UniqueConstraint(
                fields=["item", "location", "lot"], condition=Q(lot__isnull=False), name="balance_unique_with_lot"
            ),
            models.UniqueConstraint(
                fields=["item", "location"], condition=Q(lot__isnull=True), name="balance_unique_without_lot"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="balance_quantity_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="balance_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("quantity")), name="balance_reserved_within_quantity"),
        ]
        indexes = [models.Index(fields=["location", "item"], name="balance_location_idx")]

    def __str__(self) -> str:
        return f"{self.item_id}@{self.location_id}/{self.lot_id or '-'}: {self.quantity}"

    @property
    def unreserved(self):
        return self.quantity - self.reserved


class Reservation(models.Model):
    """A quantity of an item (optionally of one lot, at one location) promised to a demand."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    TRANSITIONS = {Status.OPEN: {Status.CLOSED}, Status.CLOSED: set()}

    item = models.ForeignKey("inventory.Item", on_delete=models.PROTECT, related_name="reservations")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="reservations")
    location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="reservations"
    )
    quantity = QuantityField()
    quantity_consumed = QuantityField(default=ZERO)
    quantity_released = QuantityField(default=ZERO)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    demand_type = models.CharField(max_length=40)
    demand_id = models.BigIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_consumed__gte=0) & Q(quantity_released__gte=0),
                name="reservation_settled_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("quantity_consumed") + F("quantity_released")),
                name="reservation_settled_within_quantity",
            ),
            models.CheckConstraint(condition=Q(status__in=["open", "closed"]), name="reservation_status_valid"),
        ]
        indexes = [
            models.Index(fields=["demand_type", "demand_id"], name="reservation_demand_idx"),
            models.Index(fields=["item", "status"], name="reservation_item_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.item_id} for {self.demand_type}:{self.demand_id}"

    @property
    def remaining(self):
        return self.quantity - self.quantity_consumed - self.quantity_released


class Hold(models.Model):
    """A quality hold on a lot or a serial: held material cannot be issued."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"

    TRANSITIONS = {Status.ACTIVE: {Status.RELEASED}, Status.RELEASED: set()}

    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="holds")
    serial = models.ForeignKey(SerialNumber, null=True, blank=True, on_delete=models.PROTECT, related_name="holds")
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=500, blank=True)
    # Soft reference to what placed the hold, e.g. ("nonconformance", 7) or ("recall", 3).
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(lot__isnull=False) & Q(serial__isnull=True)) | (Q(lot__isnull=True) & Q(serial__isnull=False)),
                name="hold_on_lot_or_serial",
            ),
            models.CheckConstraint(condition=Q(status__in=["active", "released"]), name="hold_status_valid"),
            models.CheckConstraint(
                condition=Q(status="active") | Q(released_at__isnull=False), name="hold_released_has_time"
            ),
        ]
        indexes = [models.Index(fields=["source_type", "source_id"], name="hold_source_idx")]

    def __str__(self) -> str:
        return f"hold #{self.pk} on {self.lot or self.serial}"
