"""Serializers of production reports: what a tablet sends, and the report it gets back (rendered
directly, see :meth:`ProductionReportSerializer.to_representation`). Shapes only; the rules are in
``orders.services.reports``."""

from __future__ import annotations

from decimal import Context, Decimal

from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from orders.models import ProductionReport


def quantity(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=3, **kwargs)


# --- production reports -------------------------------------------------------------------------


class ConsumedInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, help_text="Component item id (from the order's requirements for this operation).")
    lot = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64, help_text="Lot code, as scanned.")
    serial = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64, help_text="Serial code, as scanned.")
    quantity = quantity(required=False, allow_null=True, min_value=0, help_text="Defaults to 1 for a serial.")
    produced_serial = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=64,
        help_text="Which produced serial this consumed serial went into (default: pairs in listing order).",
    )


class ProductionReportInputSerializer(serializers.Serializer):
    quantity_good = quantity(min_value=0)
    quantity_scrap = quantity(min_value=0, required=False, default=0)
    scrap_reason = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=32, help_text="Scrap reason code.")
    consumed = ConsumedInputSerializer(many=True, required=False, default=list, max_length=1000)
    produced_serials = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        max_length=10000,
        help_text="First operation: new serial numbers, one per good unit. Later operations: the serials of this "
        "order passed on as good here.",
    )
    scrapped_serials = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        max_length=10000,
        help_text="Later operations of a serial-tracked product: the serials scrapped here, one per scrapped unit.",
    )
    produced_lot_code = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)
    labor_minutes = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True)
    recorded_at = serializers.DateTimeField(required=False, allow_null=True, help_text="The tablet's own time of the report.")


def report_input(data) -> dict:
    """What :class:`ProductionReportInputSerializer` validates ``data`` (a request's body) into.

    A tablet's usual body (a JSON object whose ``consumed`` is a list of objects) is validated
    field by field with the serializer's own declared fields, without building a serializer and
    copying its fields for every request; a body that fails there, or of any other shape, goes
    through the serializer, which words the errors. The tests hold both ways equal."""
    if type(data) is dict:
        consumed = data.get("consumed", [])
        if type(consumed) is list and len(consumed) <= _MAX_CONSUMED and all(type(row) is dict for row in consumed):
            try:
                values = _validated(_REPORT_FIELDS, data)
                values["consumed"] = [_validated(_CONSUMED_FIELDS, row) for row in consumed]
                return values
            except serializers.ValidationError:
                pass
    body = ProductionReportInputSerializer(data=data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def _validated(fields: dict, data: dict) -> dict:
    out = {}
    for name, field in fields.items():
        try:
            out[name] = field.run_validation(data.get(name, empty))
        except SkipField:
            pass
    return out


_REPORT_FIELDS = {k: v for k, v in ProductionReportInputSerializer._declared_fields.items() if k != "consumed"}
_CONSUMED_FIELDS = dict(ConsumedInputSerializer._declared_fields)
_MAX_CONSUMED = ProductionReportInputSerializer._declared_fields["consumed"].max_length


class ReportConsumptionSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="item_id")
    item_code = serializers.CharField(source="item.code")
    lot = serializers.IntegerField(source="lot_id", allow_null=True)
    lot_code = serializers.CharField(source="lot.code", default=None, allow_null=True)
    serial = serializers.IntegerField(source="serial_id", allow_null=True)
    serial_code = serializers.CharField(source="serial.code", default=None, allow_null=True)
    location = serializers.IntegerField(source="location_id")
    quantity = quantity()
    backflushed = serializers.BooleanField()
    move = serializers.IntegerField(source="move_id")


class ReportOutputSerializer(serializers.Serializer):
    action = serializers.CharField()
    item = serializers.IntegerField(source="item_id")
    lot = serializers.IntegerField(source="lot_id", allow_null=True)
    lot_code = serializers.CharField(source="lot.code", default=None, allow_null=True)
    serial = serializers.IntegerField(source="serial_id", allow_null=True)
    serial_code = serializers.CharField(source="serial.code", default=None, allow_null=True)
    location = serializers.IntegerField(source="location_id", allow_null=True)
    quantity = quantity()
    move = serializers.IntegerField(source="move_id", allow_null=True)


class ReportMoveSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    item = serializers.IntegerField(source="item_id")
    quantity = quantity()
    from_location = serializers.IntegerField(source="from_location_id", allow_null=True)
    to_location = serializers.IntegerField(source="to_location_id", allow_null=True)
    lot = serializers.IntegerField(source="lot_id", allow_null=True)
    serial = serializers.IntegerField(source="serial_id", allow_null=True)
    reservation = serializers.IntegerField(source="reservation_id", allow_null=True)
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ReportLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    consumed_lot = serializers.IntegerField(source="consumed_lot_id", allow_null=True)
    consumed_serial = serializers.IntegerField(source="consumed_serial_id", allow_null=True)
    produced_lot = serializers.IntegerField(source="produced_lot_id", allow_null=True)
    produced_serial = serializers.IntegerField(source="produced_serial_id", allow_null=True)
    quantity = quantity()
    reversed = serializers.BooleanField()


class ProductionReportSerializer(serializers.ModelSerializer):
    operation_sequence = serializers.IntegerField(source="operation.sequence", read_only=True)
    work_order_number = serializers.CharField(source="work_order.number", read_only=True)
    item = serializers.IntegerField(source="work_order.item_id", read_only=True)
    scrap_reason = serializers.CharField(source="scrap_reason.code", read_only=True, default=None, allow_null=True)
    username = serializers.CharField(source="user.username", read_only=True, default=None, allow_null=True)
    reversed_by = serializers.SerializerMethodField()
    consumed = serializers.SerializerMethodField()
    produced = serializers.SerializerMethodField()
    moves = serializers.SerializerMethodField()
    genealogy_links = serializers.SerializerMethodField()

    class Meta:
        model = ProductionReport
        fields = [
            "id",
            "kind",
            "operation",
            "operation_sequence",
            "work_order",
            "work_order_number",
            "item",
            "quantity_good",
            "quantity_scrap",
            "scrap_reason",
            "labor_minutes",
            "user",
            "username",
            "created_at",
            "recorded_at",
            "reverses",
            "reversed_by",
            "reason",
            "consumed",
            "produced",
            "moves",
            "genealogy_links",
        ]
        read_only_fields = fields

    def to_representation(self, report) -> dict:
        """The fields declared above, as DRF renders them, built directly: this answers every
        production report, and DRF's generic rendering (``generic_representation``, which the
        tests hold it equal to) spends more CPU building the nested serializers than the report's
        statements cost."""
        consumption, outputs = self._consumption(report), self._outputs(report)
        moves = sorted([row.move for row in consumption] + [row.move for row in outputs if row.move_id], key=lambda m: m.pk)
        user = report.user
        zone = timezone.get_current_timezone()
        return {
            "id": report.pk,
            "kind": report.kind,
            "operation": report.operation_id,
            "operation_sequence": report.operation.sequence,
            "work_order": report.work_order_id,
            "work_order_number": report.work_order.number,
            "item": report.work_order.item_id,
            "quantity_good": _quantity(report.quantity_good),
            "quantity_scrap": _quantity(report.quantity_scrap),
            "scrap_reason": report.scrap_reason.code if report.scrap_reason_id else None,
            "labor_minutes": None if report.labor_minutes is None else _LABOR.to_representation(report.labor_minutes),
            "user": report.user_id,
            "username": user.username if user is not None else None,
            "created_at": _time(report.created_at, zone),
            "recorded_at": _time(report.recorded_at, zone),
            "reverses": report.reverses_id,
            "reversed_by": self.get_reversed_by(report),
            "reason": report.reason,
            "consumed": [_consumption_row(row) for row in consumption],
            "produced": [_output_row(row) for row in outputs],
            "moves": [_move_row(move, zone) for move in moves],
            "genealogy_links": [_link_representation(row) for row in self._link_rows(report)],
        }

    def generic_representation(self, report) -> dict:
        return super().to_representation(report)

    @staticmethod
    def _consumption(report):
        rows = getattr(report, "_consumption", None)
        return rows if rows is not None else list(report.consumed.all())

    @staticmethod
    def _outputs(report):
        rows = getattr(report, "_outputs", None)
        return rows if rows is not None else list(report.outputs.all())

    def get_reversed_by(self, report) -> int | None:
        if getattr(report, "_links", None) is not None:
            return None  # just made: nothing reverses it yet
        try:
            return report.reversed_by.pk
        except ProductionReport.DoesNotExist:
            return None

    def get_consumed(self, report) -> ReportConsumptionSerializer(many=True):
        return ReportConsumptionSerializer(self._consumption(report), many=True).data

    def get_produced(self, report) -> ReportOutputSerializer(many=True):
        return ReportOutputSerializer(self._outputs(report), many=True).data

    def get_moves(self, report) -> ReportMoveSerializer(many=True):
        moves = [row.move for row in self._consumption(report)] + [row.move for row in self._outputs(report) if row.move_id]
        return ReportMoveSerializer(sorted(moves, key=lambda m: m.pk), many=True).data

    def get_genealogy_links(self, report) -> ReportLinkSerializer(many=True):
        return ReportLinkSerializer(self._link_rows(report), many=True).data

    @staticmethod
    def _link_rows(report) -> list[dict]:
        fresh = getattr(report, "_links", None)
        if fresh is not None:
            return [{**_link_row(link), "reversed": False} for link in fresh]
        return [{**_link_row(row.link), "reversed": row.reversed_at is not None} for row in report.genealogy.all()]


# Fields rendering single values exactly as the declared ones do (unbound: no parent needed).
_QUANTITY = quantity()
_LABOR = serializers.DecimalField(max_digits=10, decimal_places=2)
_TIME = serializers.DateTimeField()


_THOUSANDTH = Decimal("0.001")
_QUANTITY_CONTEXT = Context(prec=_QUANTITY.max_digits)


def _quantity(value):
    """``_QUANTITY.to_representation(value)`` for the values a report holds: a decimal quantized
    to the field's places, as a string (without the field's generic steps, for every quantity of
    every report answered)."""
    if value is None:
        return None
    if type(value) is not Decimal:
        return _QUANTITY.to_representation(value)
    return f"{value.quantize(_THOUSANDTH, context=_QUANTITY_CONTEXT):f}"


def _time(value, zone):
    """``_TIME.to_representation(value)`` for an aware datetime, in ``zone`` (the current time
    zone, looked up once per report answered)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return _TIME.to_representation(value)
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _tracked(row) -> dict:
    """The lot and serial of a consumption or output row, ids and codes."""
    return {
        "lot": row.lot_id,
        "lot_code": row.lot.code if row.lot_id else None,
        "serial": row.serial_id,
        "serial_code": row.serial.code if row.serial_id else None,
    }


def _consumption_row(row) -> dict:
    return {
        "item": row.item_id,
        "item_code": row.item.code,
        **_tracked(row),
        "location": row.location_id,
        "quantity": _quantity(row.quantity),
        "backflushed": row.backflushed,
        "move": row.move_id,
    }


def _output_row(row) -> dict:
    return {
        "action": row.action,
        "item": row.item_id,
        **_tracked(row),
        "location": row.location_id,
        "quantity": _quantity(row.quantity),
        "move": row.move_id,
    }


def _link_representation(row: dict) -> dict:
    return {
        "id": row["id"],
        "consumed_lot": row["consumed_lot_id"],
        "consumed_serial": row["consumed_serial_id"],
        "produced_lot": row["produced_lot_id"],
        "produced_serial": row["produced_serial_id"],
        "quantity": _quantity(row["quantity"]),
        "reversed": row["reversed"],
    }


def _move_row(move, zone) -> dict:
    return {
        "id": move.pk,
        "kind": move.kind,
        "item": move.item_id,
        "quantity": _quantity(move.quantity),
        "from_location": move.from_location_id,
        "to_location": move.to_location_id,
        "lot": move.lot_id,
        "serial": move.serial_id,
        "reservation": move.reservation_id,
        "reverses": move.reverses_id,
        "created_at": _time(move.created_at, zone),
    }


def _link_row(link) -> dict:
    return {
        "id": link.pk,
        "consumed_lot_id": link.consumed_lot_id,
        "consumed_serial_id": link.consumed_serial_id,
        "produced_lot_id": link.produced_lot_id,
        "produced_serial_id": link.produced_serial_id,
        "quantity": link.quantity,
    }


class ReversalInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the report was wrong.")
    recorded_at = serializers.DateTimeField(required=False, allow_null=True)
