"""Production reports: what a running operation made, from what, and their reversal.

One report is one transaction: the stock moves (issues consuming the order's reservations,
production output, passing units on, scrap), balances, genealogy links, the operation's
counters and the ``production.reported`` event all commit together, or nothing does.

How units flow through a work order's operations
------------------------------------------------
* The **first** operation makes the units: its good quantity is *produced* into stock (new
  serial numbers, a lot, or a plain quantity). Scrap reported there never existed as stock.
* A **later** operation reports against units the previous operation passed on: for a
  serial-tracked product it names those serials (``produced_serials`` are existing serials of
  this work order waiting at this operation, ``scrapped_serials`` the ones it scrapped); for a
  lot it names the lot (or the only lot waiting); otherwise it counts. Good units are *passed
  on*, scrapped ones are scrapped out of stock.
* Where units are: the output of an operation goes to the line side of the next operation's work
  center (or, without one, the first location whose purpose is ``production``); the output of
  the **last** operation goes into the finished-goods location (purpose ``finished_goods``), so
  finished goods are in stock report by report and the order's completion lists them.

Components
----------
* Only components of the order's frozen material requirements for this operation's sequence
  may be consumed (else 409 ``wrong_item``). Lots and serials are scanned by code; the location
  is found from stock: the work center's line side first, then other line-side locations, then
  wherever most of it is (a lot may be drawn from several locations).
* Untracked components not named in the report are backflushed: the frozen requirement per
  ordered unit times the good + scrap units reported, rounded cumulatively to what the unit
  counts (so the total backflushed for the full order quantity is the requirement).
* Issues consume the order's open reservations of that item first.

Limits: an operation's good total may not pass the order quantity plus
``settings.MES_OVER_REPORT_TOLERANCE_PERCENT``, and a later operation may not handle (good +
scrap) more units than the previous one passed on (409 ``over_report``).

Locks: the operation and its predecessor (by pk), then the inventory services' locks, which are
taken item by item in item-pk order (every report and reversal calls them in that order), so
concurrent reports cannot deadlock and two tablets reporting on one operation serialise on the
operation row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from inventory import errors as stock_errors
from inventory import services as inventory
from inventory.models import GenealogyLink, Item, Location, Lot, Reservation, SerialNumber, StockBalance, StockMove
from inventory.selectors import available_quantity
from mes.errors import ApplicationError, InvalidInput
from mes.events import record_event
from mes.quantities import ZERO, quantize
from orders import errors
from orders.models import (
    OperationStatus,
    ProductionReport,
    ReportConsumption,
    ReportGenealogy,
    ReportOutput,
    ScrapReason,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderOperation,
    WorkOrderStatus,
)
from orders.services.execution import RouteStep, lock_operations, make_ready, neighbours

DOCUMENT_TYPE = "production_report"
DEMAND_TYPE = "work_order"
GOOD_ACTIONS = (ReportOutput.Action.PRODUCED, ReportOutput.Action.PASSED, ReportOutput.Action.COUNTED)
HANDLED_ACTIONS = (ReportOutput.Action.PASSED, ReportOutput.Action.COUNTED, ReportOutput.Action.SCRAPPED)


def _user(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


# --- input checks -------------------------------------------------------------------------------


def _decimal(value, *, field: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unparsable input is the client's mistake
        raise InvalidInput(f"{value!r} is not a number.", field=field, code="invalid") from None
    if not number.is_finite():
        raise InvalidInput(f"{value!r} is not a number.", field=field, code="invalid")
    return number


def _counted(item: Item, value, *, field: str, positive: bool = False) -> Decimal:
    """A quantity of ``item``: not negative (positive when asked), in what its unit can count."""
    number = _decimal(value if value is not None else 0, field=field)
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


def _scrap_reason(scrap: Decimal, code) -> ScrapReason | None:
    if scrap == 0:
        if code not in (None, ""):
            return _find_scrap_reason(code)
        return None
    if code in (None, ""):
        raise InvalidInput("Scrap needs a reason code.", field="scrap_reason", code=errors.SCRAP_REASON_REQUIRED)
    return _find_scrap_reason(code)


def _find_scrap_reason(code) -> ScrapReason:
    if isinstance(code, ScrapReason):
        return code
    reason = ScrapReason.objects.filter(code=str(code), is_active=True).first()
    if reason is None:
        raise InvalidInput(
            f"{code} is not a scrap reason code in use.", field="scrap_reason", code=errors.UNKNOWN_SCRAP_REASON
        )
    return reason


def _tolerance_limit(work_order: WorkOrder) -> tuple[Decimal, Decimal]:
    percent = Decimal(str(getattr(settings, "MES_OVER_REPORT_TOLERANCE_PERCENT", 0) or 0))
    return quantize(work_order.quantity * (1 + percent / 100)), percent


def _check_limits(operation: WorkOrderOperation, previous: WorkOrderOperation | None, good: Decimal, scrap: Decimal) -> None:
    work_order = operation.work_order
    limit, percent = _tolerance_limit(work_order)
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


def _finished_goods_location() -> int:
    pk = (
        Location.objects.filter(purpose=Location.Purpose.FINISHED_GOODS, is_active=True)
        .order_by("code")
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise ApplicationError(
            "There is no active finished-goods location to receive the output into.", code=errors.NO_LOCATION
        )
    return pk


def _staging_location(step: RouteStep) -> int:
    """Where the units waiting for operation ``step`` are: its work center's line side, or else
    the first production (work in progress) location."""
    if step.line_side_location_id:
        return step.line_side_location_id
    pk = (
        Location.objects.filter(purpose=Location.Purpose.PRODUCTION, is_active=True)
        .order_by("code")
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise ApplicationError(
            f"Operation {step.sequence} has no line-side location and there is no production location for work in progress.",
            code=errors.NO_LOCATION,
        )
    return pk


# --- the consumption plan -----------------------------------------------------------------------


@dataclass
class _Entry:
    """One consumed line as given (or a backflush), resolved."""

    index: int | None  # position in ``consumed`` (None: backflush)
    item: Item
    quantity: Decimal
    lot: Lot | None = None
    serial: SerialNumber | None = None
    produced_serial: str | None = None
    lot_code: str | None = None
    serial_code: str | None = None
    allocations: list[tuple[int, Decimal]] = field(default_factory=list)  # (location id, quantity)

    @property
    def field(self) -> str:
        return "consumed" if self.index is None else f"consumed[{self.index}]"


def _parse_consumed(consumed, materials: dict[int, WorkOrderMaterial], operation: WorkOrderOperation) -> list[_Entry]:
    entries: list[_Entry] = []
    for index, row in enumerate(consumed or []):
        item_id = getattr(row.get("item"), "pk", row.get("item"))
        material = materials.get(item_id) if isinstance(item_id, int) else None
        if material is None:
            raise ApplicationError(
                f"Item {item_id} is not a component of {operation.work_order.number} at operation {operation.sequence}.",
                code=errors.WRONG_ITEM,
                field=f"consumed[{index}].item",
                extra={"item": item_id, "components": sorted(materials)},
            )
        item = material.item
        lot_code = (row.get("lot") or "").strip() or None
        serial_code = (row.get("serial") or "").strip() or None
        if item.tracking == Item.Tracking.NONE and (lot_code or serial_code):
            raise InvalidInput(
                f"{item.code} is not tracked: scan no lot or serial for it.", field=f"consumed[{index}]", code="item_not_tracked"
            )
        if item.tracking == Item.Tracking.LOT:
            if serial_code:
                raise InvalidInput(f"{item.code} is tracked by lot, not serial.", field=f"consumed[{index}].serial", code="item_not_tracked")
            if not lot_code:
                raise InvalidInput(f"{item.code} is lot-tracked: scan the lot.", field=f"consumed[{index}].lot", code="lot_required")
        if item.tracking == Item.Tracking.SERIAL:
            if not serial_code:
                raise InvalidInput(
                    f"{item.code} is serial-tracked: scan the serial number.", field=f"consumed[{index}].serial", code="serials_required"
                )
        raw = row.get("quantity")
        quantity = _counted(item, 1 if raw is None and serial_code else raw, field=f"consumed[{index}].quantity", positive=True)
        if item.tracking == Item.Tracking.SERIAL and quantity != 1:
            raise InvalidInput("A serial number is consumed one at a time.", field=f"consumed[{index}].quantity", code="quantity_not_whole")
        entries.append(
            _Entry(
                index=index,
                item=item,
                quantity=quantity,
                produced_serial=(row.get("produced_serial") or None),
                lot_code=lot_code,
                serial_code=serial_code,
            )
        )
    _resolve_lots_and_serials(entries)
    return entries


def _resolve_lots_and_serials(entries: list[_Entry]) -> None:
    """Find the scanned lots and serials (one query each) and check they may be used."""
    lot_keys = {(e.item.pk, e.lot_code) for e in entries if e.lot_code}
    serial_keys = {(e.item.pk, e.serial_code) for e in entries if e.serial_code}
    lots: dict[tuple[int, str], Lot] = {}
    if lot_keys:
        query = Q()
        for item_id, code in lot_keys:
            query |= Q(item_id=item_id, code=code)
        lots = {(lot.item_id, lot.code): lot for lot in Lot.objects.filter(query)}
    serials: dict[tuple[int, str], SerialNumber] = {}
    if serial_keys:
        query = Q()
        for item_id, code in serial_keys:
            query |= Q(item_id=item_id, code=code)
        serials = {(s.item_id, s.code): s for s in SerialNumber.objects.filter(query).select_related("lot")}
    seen_serials: set[int] = set()
    today = timezone.localdate()
    for entry in entries:
        lot_code, serial_code = entry.lot_code, entry.serial_code
        if lot_code:
            lot = lots.get((entry.item.pk, lot_code))
            if lot is None:
                raise InvalidInput(f"{entry.item.code} has no lot {lot_code}.", field=f"{entry.field}.lot", code="lot_not_found")
            lot.item = entry.item
            if lot.status == Lot.Status.ON_HOLD:
                raise stock_errors.LotOnHold(lot=lot, reasons=_hold_reasons(lot=lot))
            if lot.is_expired(today):
                raise stock_errors.LotExpired(lot=lot)
            entry.lot = lot
        if serial_code:
            serial = serials.get((entry.item.pk, serial_code))
            if serial is None:
                raise InvalidInput(
                    f"{entry.item.code} has no serial number {serial_code}.", field=f"{entry.field}.serial", code="serial_not_found"
                )
            serial.item = entry.item
            if serial.pk in seen_serials:
                raise InvalidInput("A serial number is scanned twice.", field=f"{entry.field}.serial", code="duplicate_serial")
            seen_serials.add(serial.pk)
            if serial.status == SerialNumber.Status.ON_HOLD:
                raise stock_errors.SerialOnHold(serial=serial, reasons=_hold_reasons(serial=serial))
            if serial.current_location_id is None:
                raise stock_errors.SerialNotAvailable(serial=serial, why=f"is not in stock (it is {serial.status})")
            if serial.lot_id is not None and serial.lot.status == Lot.Status.ON_HOLD:
                serial.lot.item = entry.item
                raise stock_errors.LotOnHold(lot=serial.lot, reasons=_hold_reasons(lot=serial.lot))
            entry.serial = serial
            entry.allocations = [(serial.current_location_id, Decimal(1))]


def _hold_reasons(*, lot=None, serial=None) -> list[str]:
    from inventory.models import Hold

    holds = Hold.objects.filter(status=Hold.Status.ACTIVE)
    holds = holds.filter(lot=lot) if lot is not None else holds.filter(serial=serial)
    return list(holds.order_by("pk").values_list("reason", flat=True))


def _backflush(
    materials: dict[int, WorkOrderMaterial], entries: list[_Entry], work_order: WorkOrder, before: Decimal, after: Decimal
) -> list[_Entry]:
    """Untracked components of the operation not named in the report, for the units reported."""
    named = {e.item.pk for e in entries}
    out = []
    for item_id, material in sorted(materials.items()):
        item = material.item
        if item.tracking != Item.Tracking.NONE or item_id in named:
            continue
        places = Decimal(1).scaleb(-min(item.unit.decimals, 3))
        per_unit = material.quantity_required / work_order.quantity
        quantity = (per_unit * after).quantize(places, rounding=ROUND_HALF_UP) - (per_unit * before).quantize(
            places, rounding=ROUND_HALF_UP
        )
        if quantity > 0:
            out.append(_Entry(index=None, item=item, quantity=quantize(quantity)))
    return out


def _allocate(entries: list[_Entry], line_side_location_id: int | None) -> None:
    """Choose the locations lots and untracked components are drawn from (one query)."""
    wanted = [e for e in entries if e.serial is None]
    if not wanted:
        return
    query = Q()
    for lot_id in {e.lot.pk for e in wanted if e.lot is not None}:
        query |= Q(lot_id=lot_id)
    untracked = {e.item.pk for e in wanted if e.lot is None}
    if untracked:
        query |= Q(item_id__in=untracked, lot__isnull=True)
    rows = (
        StockBalance.objects.filter(query, quantity__gt=0)
        .values_list("pk", "item_id", "lot_id", "location_id", "quantity", "reserved", "location__purpose")
        .order_by()
    )
    by_key: dict[tuple[int, int | None], list[list]] = defaultdict(list)
    for pk, item_id, lot_id, location_id, quantity, reserved, purpose in rows:
        by_key[(item_id, lot_id)].append([location_id, quantity - reserved, purpose, pk])
    for candidates in by_key.values():
        candidates.sort(
            key=lambda c: (c[0] != line_side_location_id, c[2] != Location.Purpose.LINE_SIDE, -c[1], c[3])
        )
    for entry in wanted:
        key = (entry.item.pk, entry.lot.pk if entry.lot else None)
        remaining = entry.quantity
        for candidate in by_key.get(key, []):
            if remaining <= 0:
                break
            take = min(remaining, candidate[1])
            if take <= 0:
                continue
            entry.allocations.append((candidate[0], take))
            candidate[1] -= take
            remaining -= take
        if remaining > 0:
            available = entry.quantity - remaining
            raise stock_errors.InsufficientStock(
                shortages=[
                    {
                        "item": entry.item.pk,
                        "item_code": entry.item.code,
                        "location": None,
                        "lot": entry.lot.pk if entry.lot else None,
                        "lot_code": entry.lot.code if entry.lot else None,
                        "required": entry.quantity,
                        "available": available,
                    }
                ]
            )


def _open_reservations(work_order: WorkOrder, item_ids) -> dict[int, list[list]]:
    """The order's open reservations per item: [reservation, remaining] pairs, oldest first."""
    out: dict[int, list[list]] = defaultdict(list)
    if not item_ids:
        return out
    for reservation in Reservation.objects.filter(
        demand_type=DEMAND_TYPE, demand_id=work_order.pk, status=Reservation.Status.OPEN, item_id__in=list(item_ids)
    ).order_by("pk"):
        if reservation.remaining > 0:
            out[reservation.item_id].append([reservation, reservation.remaining])
    return out


# --- the report ---------------------------------------------------------------------------------


def _genealogy_nodes(entries: list[_Entry], produced_codes: list[str]) -> list[tuple]:
    """Consumed lots and serials for the genealogy. A lot is shared out over the produced units.
    A consumed serial goes into the produced serial it names; otherwise the serials of one
    component are dealt to the produced serials in the order both were listed — k each when
    there are k times as many, else one each, and any left over went into scrapped units and
    are not linked (they were issued to the order all the same)."""
    nodes: list[tuple] = []
    serial_entries: dict[int, list[_Entry]] = defaultdict(list)
    for entry in entries:
        if entry.serial is not None:
            serial_entries[entry.item.pk].append(entry)
        elif entry.lot is not None:
            nodes.append((entry.lot, entry.quantity))
    produced = len(produced_codes)
    for rows in serial_entries.values():
        named = [e for e in rows if e.produced_serial]
        dealt = [e for e in rows if not e.produced_serial]
        nodes.extend((e.serial, Decimal(1), e.produced_serial) for e in named)
        if produced == 0:
            continue
        if produced == 1:
            nodes.extend((e.serial, Decimal(1)) for e in dealt)
            continue
        per_unit = len(dealt) // produced if len(dealt) % produced == 0 and dealt else 1
        for position, entry in enumerate(dealt):
            target = position // per_unit
            if target < produced:
                nodes.append((entry.serial, Decimal(1), produced_codes[target]))
    return nodes


def _waiting_serials(
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
            raise stock_errors.SerialOnHold(serial=serial, reasons=_hold_reasons(serial=serial))
        if serial.current_location_id is None:
            raise stock_errors.SerialNotAvailable(serial=serial, why=f"is not in stock (it is {serial.status})")
    return serials


def _waiting_lot(*, work_order: WorkOrder, previous: WorkOrderOperation, code: str | None) -> Lot:
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


@dataclass
class _Output:
    """Moves (or counts) of the product's own units, written as ReportOutput rows."""

    rows: list[ReportOutput] = field(default_factory=list)
    lots: dict[int, Lot] = field(default_factory=dict)
    serials: list[SerialNumber] = field(default_factory=list)

    def add(self, *, action, item, quantity, location_id=None, lot=None, serial=None, move=None) -> None:
        self.rows.append(
            ReportOutput(action=action, item=item, quantity=quantity, location_id=location_id, lot=lot, serial=serial, move=move)
        )
        if action != ReportOutput.Action.SCRAPPED:
            if serial is not None:
                self.serials.append(serial)
            elif lot is not None:
                self.lots[lot.pk] = lot


@transaction.atomic
def production_report_create(
    *,
    operation: WorkOrderOperation,
    user,
    quantity_good,
    quantity_scrap=ZERO,
    scrap_reason=None,
    consumed=(),
    produced_serials=(),
    produced_lot_code: str | None = None,
    scrapped_serials=(),
    labor_minutes=None,
    recorded_at: dt.datetime | None = None,
) -> ProductionReport:
    """Record what a running operation made (see the module's description). Refusals: 409
    ``operation_not_running``, ``work_order_not_runnable``, ``over_report``, ``wrong_item``,
    ``lot_on_hold``, ``serial_on_hold``, ``lot_expired``, ``insufficient_stock``,
    ``serial_already_exists``, ``serial_not_at_operation``; 400 for malformed input
    (``scrap_reason_required``, ``serial_count_mismatch``, ``lot_not_found`` …)."""
    previous_step, next_step = neighbours(operation)
    locked = lock_operations([operation.pk] + ([previous_step.pk] if previous_step else []))
    operation = locked[operation.pk]
    previous = locked.get(previous_step.pk) if previous_step else None
    work_order = operation.work_order
    product = work_order.item
    if operation.status != OperationStatus.RUNNING:
        raise ApplicationError(
            f"Operation {operation.sequence} of {work_order.number} is {operation.status}: reports go to a running operation.",
            code=errors.OPERATION_NOT_RUNNING,
            extra={"current_status": operation.status},
        )
    if work_order.status != WorkOrderStatus.IN_PROGRESS:
        raise ApplicationError(
            f"Work order {work_order.number} is {work_order.status}: nothing can be reported on it.",
            code=errors.WORK_ORDER_NOT_RUNNABLE,
            extra={"work_order_status": work_order.status},
        )
    good = _counted(product, quantity_good, field="quantity_good")
    scrap = _counted(product, quantity_scrap, field="quantity_scrap")
    if good == 0 and scrap == 0:
        raise InvalidInput("Report a good or a scrap quantity.", field="quantity_good", code=errors.NOTHING_REPORTED)
    reason = _scrap_reason(scrap, scrap_reason)
    labor = None
    if labor_minutes not in (None, ""):
        labor = _decimal(labor_minutes, field="labor_minutes")
        if labor < 0 or labor >= Decimal(10) ** 8:
            raise InvalidInput("Labour minutes must be zero or more.", field="labor_minutes", code="invalid")
        labor = labor.quantize(Decimal("0.01"))
    produced_codes = [str(code).strip() for code in (produced_serials or [])]
    scrapped_codes = [str(code).strip() for code in (scrapped_serials or [])]
    produced_lot_code = (produced_lot_code or "").strip() or None
    _check_output_input(product, good, scrap, produced_codes, scrapped_codes, produced_lot_code, first=previous is None)
    _check_limits(operation, previous, good, scrap)

    materials = {
        m.item_id: m
        for m in WorkOrderMaterial.objects.filter(work_order=work_order, operation_sequence=operation.sequence).select_related(
            "item", "item__unit"
        )
    }
    here = RouteStep(operation.pk, operation.sequence, operation.work_center.line_side_location_id)
    entries = _parse_consumed(consumed, materials, operation)
    before = operation.quantity_good + operation.quantity_scrap
    entries += _backflush(materials, entries, work_order, before, before + good + scrap)
    _allocate(entries, here.line_side_location_id)
    output_location = _finished_goods_location() if next_step is None else _staging_location(next_step)

    report = ProductionReport.objects.create(
        operation=operation,
        work_order=work_order,
        quantity_good=good,
        quantity_scrap=scrap,
        scrap_reason=reason,
        labor_minutes=labor,
        user=_user(user),
        recorded_at=recorded_at,
    )
    refs = {
        "work_order_id": work_order.pk,
        "operation_id": operation.pk,
        "document_type": DOCUMENT_TYPE,
        "document_id": str(report.pk),
    }

    # Every stock service is called item by item in item-pk order (the product's own units at
    # the product's place in that order), so reports never wait on each other in a cycle.
    by_item: dict[int, list[_Entry]] = defaultdict(list)
    for entry in entries:
        by_item[entry.item.pk].append(entry)
    reservations = _open_reservations(work_order, by_item)
    consumption: list[ReportConsumption] = []
    issued: dict[int, Decimal] = defaultdict(lambda: ZERO)
    output = _Output()
    for item_id in sorted({*by_item, product.pk}):
        if item_id == product.pk:
            _post_output(
                output,
                operation=operation,
                previous=previous,
                here=here,
                work_order=work_order,
                good=good,
                scrap=scrap,
                reason=reason,
                produced_codes=produced_codes,
                scrapped_codes=scrapped_codes,
                produced_lot_code=produced_lot_code,
                output_location=output_location,
                refs=refs,
                user=user,
            )
        for entry in by_item.get(item_id, ()):
            for moves, backflushed in _issue(entry, reservations.get(item_id, []), refs, user):
                for move in moves:
                    issued[item_id] += move.quantity
                    consumption.append(
                        ReportConsumption(
                            report=report,
                            item=entry.item,
                            lot=move.lot,
                            serial=move.serial,
                            location_id=move.from_location_id,
                            quantity=move.quantity,
                            backflushed=backflushed,
                            move=move,
                        )
                    )

    links = inventory.link_consumed(
        consumed=_genealogy_nodes(entries, [s.code for s in output.serials]),
        produced_lot=next(iter(output.lots.values()), None) if not output.serials else None,
        produced_serials=output.serials,
        **refs,
    ) if output.serials or output.lots else []
    ReportConsumption.objects.bulk_create(consumption)
    for row in output.rows:
        row.report = report
    ReportOutput.objects.bulk_create(output.rows)
    ReportGenealogy.objects.bulk_create([ReportGenealogy(report=report, link=link) for link in links])
    for item_id, quantity in issued.items():
        WorkOrderMaterial.objects.filter(pk=materials[item_id].pk).update(quantity_issued=F("quantity_issued") + quantity)

    operation.quantity_good += good
    operation.quantity_scrap += scrap
    operation.save(update_fields=["quantity_good", "quantity_scrap", "updated_at"])
    if good > 0 and next_step is not None:
        make_ready(operation_id=next_step.pk, user=user, reason=f"operation {operation.sequence} reported good output")

    record_event(
        type="production.reported",
        aggregate_type="work_order_operation",
        aggregate_id=operation.pk,
        payload={
            "report_id": report.pk,
            "work_order_id": work_order.pk,
            "operation_id": operation.pk,
            "operation_sequence": operation.sequence,
            "item_id": product.pk,
            "quantity_good": str(good),
            "quantity_scrap": str(scrap),
            "produced_lots": [{"id": lot.pk, "code": lot.code} for lot in output.lots.values()],
            "produced_serials": [{"id": serial.pk, "code": serial.code} for serial in output.serials],
        },
        actor=_user(user),
    )
    report._links = links  # the serializer shows them without reading them back
    report._consumption = consumption
    report._outputs = output.rows
    return report


def _check_output_input(product: Item, good, scrap, produced_codes, scrapped_codes, lot_code, *, first: bool) -> None:
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


def _issue(entry: _Entry, reservations: list[list], refs: dict, user):
    """Issue one consumed entry, location by location, consuming the order's reservations first."""
    for location_id, quantity in entry.allocations:
        reservation = None
        while reservations and reservations[0][1] <= 0:
            reservations.pop(0)
        if reservations:
            reservation = reservations[0][0]
        moves = inventory.issue(
            item=entry.item,
            location=location_id,
            quantity=quantity,
            lot=entry.lot,
            serials=[entry.serial] if entry.serial is not None else None,
            reservation=reservation,
            user=user,
            **refs,
        )
        if reservation is not None:
            reservations[0][1] -= quantity
        yield moves, entry.index is None


def _post_output(
    output: _Output,
    *,
    operation: WorkOrderOperation,
    previous: WorkOrderOperation | None,
    here: RouteStep,
    work_order: WorkOrder,
    good: Decimal,
    scrap: Decimal,
    reason: ScrapReason | None,
    produced_codes: list[str],
    scrapped_codes: list[str],
    produced_lot_code: str | None,
    output_location: int,
    refs: dict,
    user,
) -> None:
    product = work_order.item
    if previous is None:
        if good > 0:
            moves = inventory.produce(
                item=product,
                location=output_location,
                quantity=good,
                lot_code=produced_lot_code,
                serial_codes=produced_codes or None,
                user=user,
                **refs,
            )
            for move in moves:
                output.add(
                    action=ReportOutput.Action.PRODUCED,
                    item=product,
                    quantity=move.quantity,
                    location_id=move.to_location_id,
                    lot=move.lot,
                    serial=move.serial,
                    move=move,
                )
        return

    waiting_at = _staging_location(here)
    scrap_reason_text = f"{reason.code} {reason.name}" if reason is not None else ""
    if product.tracking == Item.Tracking.SERIAL:
        passed = _waiting_serials(
            work_order=work_order, previous=previous, operation=operation, codes=produced_codes, field="produced_serials"
        )
        scrapped = _waiting_serials(
            work_order=work_order, previous=previous, operation=operation, codes=scrapped_codes, field="scrapped_serials"
        )
        if {s.pk for s in passed} & {s.pk for s in scrapped}:
            raise InvalidInput("A serial number cannot be both good and scrapped.", field="scrapped_serials", code="duplicate_serial")
        _pass_serials(output, product, passed, output_location, refs, user)
        by_location: dict[tuple[int, int | None], list[SerialNumber]] = defaultdict(list)
        for serial in scrapped:
            by_location[(serial.current_location_id, serial.lot_id)].append(serial)
        for (location_id, _), serials in sorted(by_location.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
            moves = inventory.scrap(
                item=product, location=location_id, quantity=Decimal(len(serials)), reason=scrap_reason_text,
                serials=serials, user=user, **refs,
            )
            for move in moves:
                output.add(action=ReportOutput.Action.SCRAPPED, item=product, quantity=move.quantity, lot=move.lot, serial=move.serial, move=move)
        return

    lot = _waiting_lot(work_order=work_order, previous=previous, code=produced_lot_code) if product.tracking == Item.Tracking.LOT else None
    if good > 0:
        if waiting_at == output_location:
            output.add(action=ReportOutput.Action.COUNTED, item=product, quantity=good, location_id=waiting_at, lot=lot)
        else:
            (move,) = inventory.transfer(
                item=product, from_location=waiting_at, to_location=output_location, quantity=good, lot=lot,
                reason=f"operation {operation.sequence} of {work_order.number}", reference=f"{DOCUMENT_TYPE}:{refs['document_id']}",
                user=user,
            )
            output.add(action=ReportOutput.Action.PASSED, item=product, quantity=good, location_id=output_location, lot=lot, move=move)
    if scrap > 0:
        (move,) = inventory.scrap(
            item=product, location=waiting_at, quantity=scrap, reason=scrap_reason_text, lot=lot, user=user, **refs
        )
        output.add(action=ReportOutput.Action.SCRAPPED, item=product, quantity=scrap, lot=lot, move=move)


def _pass_serials(output: _Output, product: Item, serials: list[SerialNumber], to_location: int, refs: dict, user) -> None:
    groups: dict[tuple[int, int | None], list[SerialNumber]] = defaultdict(list)
    for serial in serials:
        groups[(serial.current_location_id, serial.lot_id)].append(serial)
    passed: dict[int, ReportOutput] = {}
    for (location_id, _), rows in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        if location_id == to_location:
            for serial in rows:
                passed[serial.pk] = (ReportOutput.Action.COUNTED, location_id, None)
            continue
        moves = inventory.transfer(
            item=product, from_location=location_id, to_location=to_location, quantity=Decimal(len(rows)), serials=rows,
            reason=f"passed on by {DOCUMENT_TYPE} {refs['document_id']}", reference=f"{DOCUMENT_TYPE}:{refs['document_id']}", user=user,
        )
        for move in moves:
            passed[move.serial_id] = (ReportOutput.Action.PASSED, to_location, move)
    for serial in serials:  # in the order the operator listed them
        action, location_id, move = passed[serial.pk]
        output.add(action=action, item=product, quantity=Decimal(1), location_id=location_id, lot=serial.lot, serial=serial, move=move)


# --- reversal -----------------------------------------------------------------------------------


@transaction.atomic
def production_report_reverse(
    *, report: ProductionReport, user, reason: str, recorded_at: dt.datetime | None = None
) -> ProductionReport:
    """Undo a wrong report with a reversing report: every stock move reversed (components back to
    where they were issued from and re-reserved for the order, output taken back out), the
    operation's counters restored, its genealogy links marked reversed, ``production.reversed``
    emitted. Nothing is deleted. Refused (409) for a reversal, a report already reversed
    (``already_reversed``), an order no longer running (``not_reversible``), or output the next
    operation has already handled (``output_used_downstream``)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the report is reversed.", field="reason", code="reason_required")
    operation = WorkOrderOperation.objects.select_related("work_order").get(pk=report.operation_id)
    _, next_step = neighbours(operation)
    locked = lock_operations([operation.pk] + ([next_step.pk] if next_step else []))
    operation = locked[operation.pk]
    following = locked.get(next_step.pk) if next_step else None
    work_order = operation.work_order
    original = ProductionReport.objects.select_for_update(of=("self",)).get(pk=report.pk)
    if original.kind != ProductionReport.Kind.REPORT:
        raise ApplicationError(f"Report #{original.pk} is itself a reversal.", code=errors.NOT_REVERSIBLE)
    if ProductionReport.objects.filter(reverses=original).exists():
        raise ApplicationError(f"Report #{original.pk} has already been reversed.", code=errors.ALREADY_REVERSED)
    if work_order.status not in (WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.ON_HOLD):
        raise ApplicationError(
            f"Work order {work_order.number} is {work_order.status}: its reports can no longer be reversed.",
            code=errors.NOT_REVERSIBLE,
            extra={"work_order_status": work_order.status},
        )
    outputs = list(original.outputs.select_related("serial", "lot").order_by("pk"))
    if following is not None:
        _check_not_used_downstream(original, outputs, operation, following)

    reversal = ProductionReport.objects.create(
        kind=ProductionReport.Kind.REVERSAL,
        operation=operation,
        work_order=work_order,
        quantity_good=-original.quantity_good,
        quantity_scrap=-original.quantity_scrap,
        scrap_reason=original.scrap_reason,
        reverses=original,
        reason=reason[:500],
        user=_user(user),
        recorded_at=recorded_at,
    )
    consumption = list(original.consumed.select_related("move", "item").order_by("pk"))
    moves = [(row.item_id, row.move, row) for row in consumption] + [(row.item_id, row.move, row) for row in outputs if row.move_id]
    moves.sort(key=lambda m: (m[0], -m[1].pk))
    mirrored_consumption, mirrored_outputs = [], []
    rereserve: dict[int, Decimal] = defaultdict(lambda: ZERO)
    unissued: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for item_id, move, row in moves:
        back = inventory.reverse_move(move=move, reason=f"report #{original.pk} reversed: {reason}"[:200], user=user)
        if isinstance(row, ReportConsumption):
            unissued[item_id] += move.quantity
            if move.reservation_id:
                rereserve[item_id] += move.quantity
            mirrored_consumption.append(
                ReportConsumption(
                    report=reversal, item_id=item_id, lot_id=row.lot_id, serial_id=row.serial_id,
                    location_id=row.location_id, quantity=-row.quantity, backflushed=row.backflushed, move=back,
                )
            )
        else:
            mirrored_outputs.append(
                ReportOutput(
                    report=reversal, action=row.action, item_id=item_id, lot_id=row.lot_id, serial_id=row.serial_id,
                    location_id=back.to_location_id, quantity=-row.quantity, move=back,
                )
            )
    for row in outputs:
        if row.move_id is None:
            mirrored_outputs.append(
                ReportOutput(
                    report=reversal, action=row.action, item_id=row.item_id, lot_id=row.lot_id, serial_id=row.serial_id,
                    location_id=row.location_id, quantity=-row.quantity,
                )
            )
    ReportConsumption.objects.bulk_create(mirrored_consumption)
    ReportOutput.objects.bulk_create(mirrored_outputs)
    for item_id, quantity in sorted(rereserve.items()):
        wanted = min(quantity, available_quantity(item=item_id))
        if wanted > 0:
            inventory.reserve(item=item_id, quantity=wanted, demand_type=DEMAND_TYPE, demand_id=work_order.pk, user=user)
    for item_id, quantity in unissued.items():
        WorkOrderMaterial.objects.filter(
            work_order=work_order, operation_sequence=operation.sequence, item_id=item_id
        ).update(quantity_issued=F("quantity_issued") - quantity)
    ReportGenealogy.objects.filter(report=original).update(reversed_at=timezone.now(), reversed_by=reversal)

    operation.quantity_good -= original.quantity_good
    operation.quantity_scrap -= original.quantity_scrap
    operation.save(update_fields=["quantity_good", "quantity_scrap", "updated_at"])
    record_event(
        type="production.reversed",
        aggregate_type="work_order_operation",
        aggregate_id=operation.pk,
        payload={
            "report_id": reversal.pk,
            "reverses": original.pk,
            "work_order_id": work_order.pk,
            "operation_id": operation.pk,
            "operation_sequence": operation.sequence,
            "item_id": work_order.item_id,
            "quantity_good": str(original.quantity_good),
            "quantity_scrap": str(original.quantity_scrap),
            "reason": reason,
        },
        actor=_user(user),
    )
    return reversal


def _check_not_used_downstream(
    original: ProductionReport, outputs: list[ReportOutput], operation: WorkOrderOperation, following: WorkOrderOperation
) -> None:
    serials = [row.serial_id for row in outputs if row.serial_id and row.action in GOOD_ACTIONS]
    if serials:
        used = list(
            ReportOutput.objects.filter(
                report__operation=following,
                report__kind=ProductionReport.Kind.REPORT,
                report__reversed_by__isnull=True,
                serial_id__in=serials,
            ).values_list("serial__code", flat=True)
        )
        if used:
            raise ApplicationError(
                f"Operation {following.sequence} has already handled serial(s) {', '.join(sorted(used))} of this report: "
                "reverse its reports first.",
                code=errors.OUTPUT_USED_DOWNSTREAM,
                extra={"serial_codes": sorted(used), "operation_id": following.pk},
            )
        return
    left = operation.quantity_good - original.quantity_good
    handled = following.quantity_good + following.quantity_scrap
    if handled > left:
        raise ApplicationError(
            f"Operation {following.sequence} has handled {handled} units; without this report operation "
            f"{operation.sequence} would have passed on only {left}. Reverse the later reports first.",
            code=errors.OUTPUT_USED_DOWNSTREAM,
            extra={"operation_id": following.pk, "handled": str(handled), "left": str(left)},
        )


def report_moves(report: ProductionReport) -> list[StockMove]:
    """The stock moves a report made, in ledger order."""
    ids = [*report.consumed.values_list("move_id", flat=True), *report.outputs.exclude(move=None).values_list("move_id", flat=True)]
    return list(StockMove.objects.filter(pk__in=ids).select_related("item", "lot", "serial").order_by("pk"))


def report_links(report: ProductionReport) -> list[GenealogyLink]:
    return list(GenealogyLink.objects.filter(report_link__report=report).order_by("pk"))
