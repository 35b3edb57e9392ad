"""The units waiting at a later operation of a work order: what the previous operation passed
on and this one has not handled yet (serials by code, or the lot).

Reads and refusals only: nothing here writes (see :mod:`orders.services.reports`)."""

from __future__ import annotations

from inventory import errors as stock_errors
from inventory.models import Lot, SerialNumber
from mes.errors import ApplicationError, InvalidInput
from orders import errors
from orders.models import ProductionReport, ReportOutput, WorkOrder, WorkOrderOperation
from orders.services.report_checks import GOOD_ACTIONS, HANDLED_ACTIONS, hold_reasons


def waiting_serials(
    *, work_order: WorkOrder, previous: WorkOrderOperation, operation: WorkOrderOperation, codes: list[str], field: str
) -> list[SerialNumber]:
    """The named serials, each passed on by the previous operation and not yet handled here."""
    if not codes:
        return []
    if len(set(codes)) != len(codes):
        raise InvalidInput("A serial number is listed twice.", field=field, code="duplicate_serial")
    passed = {
        row.serial.code: row.serial
        for row in ReportOutput.objects.filter(
            report__operation=previous,
            report__kind=ProductionReport.Kind.REPORT,
            report__reversed_by__isnull=True,
            action__in=GOOD_ACTIONS,
            serial__item_id=work_order.item_id,
            serial__code__in=codes,
        ).select_related("serial", "serial__lot")
    }
    handled = set(
        ReportOutput.objects.filter(
            report__operation=operation,
            report__kind=ProductionReport.Kind.REPORT,
            report__reversed_by__isnull=True,
            action__in=HANDLED_ACTIONS,
            serial__code__in=codes,
            serial__item_id=work_order.item_id,
        ).values_list("serial__code", flat=True)
    )
    missing = [code for code in codes if code not in passed or code in handled]
    if missing:
        raise ApplicationError(
            f"Serial number(s) {', '.join(missing)} of {work_order.number} are not waiting at operation {operation.sequence}.",
            code=errors.SERIAL_NOT_AT_OPERATION,
            field=field,
            extra={"serial_codes": missing},
        )
    serials = [passed[code] for code in codes]
    for serial in serials:
        serial.item = work_order.item
        if serial.status == SerialNumber.Status.ON_HOLD:
            raise stock_errors.SerialOnHold(serial=serial, reasons=hold_reasons(serial=serial))
        if serial.current_location_id is None:
            raise stock_errors.SerialNotAvailable(serial=serial, why=f"is not in stock (it is {serial.status})")
    return serials


def waiting_lot(*, work_order: WorkOrder, previous: WorkOrderOperation, code: str | None) -> Lot:
    lots = {
        lot.code: lot
        for lot in Lot.objects.filter(
            pk__in=ReportOutput.objects.filter(
                report__operation=previous,
                report__kind=ProductionReport.Kind.REPORT,
                report__reversed_by__isnull=True,
                action__in=GOOD_ACTIONS,
                lot__isnull=False,
            ).values("lot_id")
        )
    }
    if code:
        if code not in lots:
            raise ApplicationError(
                f"Lot {code} of {work_order.number} is not waiting at this operation.",
                code=errors.SERIAL_NOT_AT_OPERATION,
                field="produced_lot_code",
                extra={"lot_code": code, "waiting_lots": sorted(lots)},
            )
        return lots[code]
    if len(lots) != 1:
        raise InvalidInput(
            f"Name the lot of {work_order.item.code} this report is about ({', '.join(sorted(lots)) or 'none waiting'}).",
            field="produced_lot_code",
            code="lot_required",
        )
    return next(iter(lots.values()))
