"""The checks behind a production report: input quantities and codes, limits, and where units
go. The components to issue are planned in :mod:`orders.services.report_checks_components`, the
units waiting at a later operation found in :mod:`orders.services.report_checks_waiting`.

Reads and refusals only: nothing here writes (see :mod:`orders.services.reports`)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from inventory.models import Item
from mes import sql
from mes.errors import ApplicationError, InvalidInput
from mes.quantities import ZERO, quantize
from orders import errors
from orders.models import ReportOutput, ScrapReason, WorkOrder, WorkOrderOperation
from orders.services.execution import RouteStep

DOCUMENT_TYPE = "production_report"
DEMAND_TYPE = "work_order"
GOOD_ACTIONS = (ReportOutput.Action.PRODUCED, ReportOutput.Action.PASSED, ReportOutput.Action.COUNTED)
HANDLED_ACTIONS = (ReportOutput.Action.PASSED, ReportOutput.Action.COUNTED, ReportOutput.Action.SCRAPPED)


def acting_user(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


# --- input checks -------------------------------------------------------------------------------


def to_decimal(value, *, field: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unparsable input is the client's mistake
        raise InvalidInput(f"{value!r} is not a number.", field=field, code="invalid") from None
    if not number.is_finite():
        raise InvalidInput(f"{value!r} is not a number.", field=field, code="invalid")
    return number


def counted(item: Item, value, *, field: str, positive: bool = False) -> Decimal:
    """A quantity of ``item``: not negative (positive when asked), in what its unit can count."""
    number = to_decimal(value if value is not None else 0, field=field)
    if number < 0 or (positive and number == 0):
        raise InvalidInput(
            f"The quantity must be {'positive' if positive else 'zero or more'}.", field=field, code="quantity_not_positive"
        )
    places = min(item.unit.decimals, 3)
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise InvalidInput(
            f"{item.code} is counted in {item.unit_id}: at most {places} decimal places, not {number}.",
            field=field,
            code="quantity_not_whole" if places == 0 else "quantity_precision",
        )
    if number >= Decimal(10) ** 15:
        raise InvalidInput(f"The quantity {number} is too large.", field=field, code="quantity_too_large")
    return quantize(number)


def resolve_scrap_reason(scrap: Decimal, code) -> ScrapReason | None:
    if scrap == 0:
        if code not in (None, ""):
            return find_scrap_reason(code)
        return None
    if code in (None, ""):
        raise InvalidInput("Scrap needs a reason code.", field="scrap_reason", code=errors.SCRAP_REASON_REQUIRED)
    return find_scrap_reason(code)


def find_scrap_reason(code) -> ScrapReason:
    if isinstance(code, ScrapReason):
        return code
    rows = sql.fetch_models(
        f"SELECT {sql.select_columns(ScrapReason, 'r')} FROM orders_scrapreason r "
        "WHERE r.code = %s AND r.is_active = %s ORDER BY r.id LIMIT 1",
        [str(code), True],
        [ScrapReason],
    )
    reason = rows[0] if rows else None
    if reason is None:
        raise InvalidInput(
            f"{code} is not a scrap reason code in use.", field="scrap_reason", code=errors.UNKNOWN_SCRAP_REASON
        )
    return reason


def tolerance_limit(work_order: WorkOrder) -> tuple[Decimal, Decimal]:
    percent = Decimal(str(getattr(settings, "MES_OVER_REPORT_TOLERANCE_PERCENT", 0) or 0))
    return quantize(work_order.quantity * (1 + percent / 100)), percent


def check_limits(operation: WorkOrderOperation, previous: WorkOrderOperation | None, good: Decimal, scrap: Decimal) -> None:
    work_order = operation.work_order
    limit, percent = tolerance_limit(work_order)
    if operation.quantity_good + good > limit:
        raise ApplicationError(
            f"{work_order.number} is for {work_order.quantity}"
            + (f" (+{percent} % tolerance: {limit})" if percent else "")
            + f"; operation {operation.sequence} has {operation.quantity_good} good already, {good} more is too many.",
            code=errors.OVER_REPORT,
            extra={
                "basis": "order_quantity",
                "limit": str(limit),
                "tolerance_percent": str(percent),
                "reported_good": str(operation.quantity_good),
                "requested_good": str(good),
            },
        )
    if previous is not None:
        handled = operation.quantity_good + operation.quantity_scrap
        waiting = previous.quantity_good - handled
        if good + scrap > waiting:
            raise ApplicationError(
                f"Operation {previous.sequence} has passed on {previous.quantity_good} of {work_order.number}; "
                f"operation {operation.sequence} has handled {handled}, so {max(waiting, ZERO)} more at most.",
                code=errors.OVER_REPORT,
                extra={
                    "basis": "previous_operation",
                    "limit": str(max(waiting, ZERO)),
                    "previous_operation_good": str(previous.quantity_good),
                    "handled": str(handled),
                    "requested": str(good + scrap),
                },
            )


# --- where things are ---------------------------------------------------------------------------


def finished_goods_location(pk: int | None) -> int:
    """The first active finished-goods location, as read with the reported operation
    (``lock_reported_operation``); refused when there is none."""
    if pk is None:
        raise ApplicationError(
            "There is no active finished-goods location to receive the output into.", code=errors.NO_LOCATION
        )
    return pk


def staging_location(step: RouteStep, production_location_id: int | None) -> int:
    """Where the units waiting for operation ``step`` are: its work center's line side, or else
    the first active production (work in progress) location, as read with the reported
    operation (``lock_reported_operation``)."""
    if step.line_side_location_id:
        return step.line_side_location_id
    if production_location_id is None:
        raise ApplicationError(
            f"Operation {step.sequence} has no line-side location and there is no production location for work in progress.",
            code=errors.NO_LOCATION,
        )
    return production_location_id


def hold_reasons(*, lot=None, serial=None) -> list[str]:
    from inventory.models import Hold

    holds = Hold.objects.filter(status=Hold.Status.ACTIVE)
    holds = holds.filter(lot=lot) if lot is not None else holds.filter(serial=serial)
    return list(holds.order_by("pk").values_list("reason", flat=True))



def check_output_input(product: Item, good, scrap, produced_codes, scrapped_codes, lot_code, *, first: bool) -> None:
    serial = product.tracking == Item.Tracking.SERIAL
    if produced_codes and not serial:
        raise InvalidInput(f"{product.code} is not serial-tracked.", field="produced_serials", code="item_not_tracked")
    if scrapped_codes and (not serial or first):
        raise InvalidInput(
            "Scrapped serials are named only for units that already have serial numbers (after their first operation).",
            field="scrapped_serials",
            code="item_not_tracked" if not serial else "invalid",
        )
    if lot_code and product.tracking == Item.Tracking.NONE:
        raise InvalidInput(f"{product.code} is not tracked by lot.", field="produced_lot_code", code="item_not_tracked")
    if serial and Decimal(len(produced_codes)) != good:
        raise InvalidInput(
            f"{len(produced_codes)} serial number(s) listed for {good} good unit(s) of {product.code}.",
            field="produced_serials",
            code="serial_count_mismatch",
        )
    if serial and not first and Decimal(len(scrapped_codes)) != scrap:
        raise InvalidInput(
            f"{len(scrapped_codes)} serial number(s) listed for {scrap} scrapped unit(s) of {product.code}.",
            field="scrapped_serials",
            code="serial_count_mismatch",
        )
    if first and product.tracking == Item.Tracking.LOT and good > 0 and not lot_code:
        raise InvalidInput(f"{product.code} is lot-tracked: give the lot it is produced into.", field="produced_lot_code", code="lot_required")
