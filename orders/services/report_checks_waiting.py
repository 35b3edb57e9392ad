"""The units waiting at a later operation of a work order: what the previous operation passed
on and this one has not handled yet (serials by code, or the lot).

Reads and refusals only: nothing here writes (see :mod:`orders.services.reports`)."""

from __future__ import annotations

from inventory import errors as stock_errors
from inventory.models import Lot, SerialNumber
from mes import sql
from mes.errors import ApplicationError, InvalidInput
from orders import errors
from orders.models import ProductionReport, WorkOrder, WorkOrderOperation
from orders.services.report_checks import GOOD_ACTIONS, HANDLED_ACTIONS, hold_reasons


# The output rows of an operation's reports that stand (not reversed); parameters: the
# operation's pk, then _STANDING_PARAMS.
_OUTPUTS = "FROM orders_reportoutput o JOIN orders_productionreport r ON r.id = o.report_id"
_STANDING = (
    "r.operation_id = %s AND r.kind = %s "
    "AND NOT EXISTS (SELECT 1 FROM orders_productionreport x WHERE x.reverses_id = r.id)"
)
_STANDING_PARAMS = (ProductionReport.Kind.REPORT.value,)
_GOOD = tuple(action.value for action in GOOD_ACTIONS)
_HANDLED = tuple(action.value for action in HANDLED_ACTIONS)


def waiting_serials(
    *, work_order: WorkOrder, previous: WorkOrderOperation, operation: WorkOrderOperation, codes: list[str], field: str
) -> list[SerialNumber]:
    """The named serials, each passed on by the previous operation and not yet handled here."""
    if not codes:
        return []
    if len(set(codes)) != len(codes):
        raise InvalidInput("A serial number is listed twice.", field=field, code="duplicate_serial")
    rows = sql.fetch_models(
        f"SELECT {sql.select_columns(SerialNumber, 's')}, {sql.select_columns(Lot, 'l')} {_OUTPUTS} "
        "JOIN inventory_serialnumber s ON s.id = o.serial_id LEFT JOIN inventory_lot l ON l.id = s.lot_id "
        f"WHERE {_STANDING} AND o.action IN ({sql.in_list(_GOOD)}) "
        f"AND s.item_id = %s AND s.code IN ({sql.in_list(codes)}) ORDER BY o.id",
        [previous.pk, *_STANDING_PARAMS, *_GOOD, work_order.item_id, *codes],
        [SerialNumber, sql.Part(Lot, parent="serialnumber", relation="lot")],
    )
    passed = {serial.code: serial for serial in rows}
    handled = {
        code
        for (code,) in sql.fetch(
            f"SELECT s.code {_OUTPUTS} JOIN inventory_serialnumber s ON s.id = o.serial_id "
            f"WHERE {_STANDING} AND o.action IN ({sql.in_list(_HANDLED)}) "
            f"AND s.item_id = %s AND s.code IN ({sql.in_list(codes)})",
            [operation.pk, *_STANDING_PARAMS, *_HANDLED, work_order.item_id, *codes],
        )
    }
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
    rows = sql.fetch_models(
        f"SELECT {sql.select_columns(Lot, 'l')} FROM inventory_lot l WHERE l.id IN (SELECT o.lot_id {_OUTPUTS} "
        f"WHERE {_STANDING} AND o.action IN ({sql.in_list(_GOOD)}) AND o.lot_id IS NOT NULL) ORDER BY l.id",
        [previous.pk, *_STANDING_PARAMS, *_GOOD],
        [Lot],
    )
    lots = {lot.code: lot for lot in rows}
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
