"""Play operators through a shift on the demo plant, through the same services as the tablets.

Each run: tops up component stock at the receiving dock when it runs low, releases draft orders
(creating new ones when there are too few open), then walks every open order operation by
operation — starting what is ready, reporting a batch (scanning lots and serials from stock,
making serial numbers, now and then scrapping a unit with a reason), passing units on,
completing operations and orders — and records a downtime on one work center. Runs again and
again: each run moves the factory on from where the last one left it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Q
from django.utils import timezone

from inventory.models import Item, Location, Lot, SerialNumber, StockBalance
from inventory.services import receive
from mes.errors import ApplicationError
from orders import services
from orders.models import (
    DowntimeEvent,
    DowntimeReason,
    OperationStatus,
    ProductionReport,
    ReportOutput,
    ScrapReason,
    WorkCenter,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderOperation,
    WorkOrderStatus,
)
from orders.services.reports import GOOD_ACTIONS, HANDLED_ACTIONS

OPERATOR_NAME = "shift-operator"
RECEIVING = "RECV"
# item code → (quantity received when stock runs low, low-water mark)
TOP_UP = {
    "PCB-100": (200, 60), "SOC-A1": (200, 60), "MEM-8G": (200, 60), "SLD-PASTE": (Decimal("2.000"), Decimal("0.5")),
    "RES-10K": (10000, 3000), "CAP-100N": (10000, 3000), "DSP-61": (40, 15), "BAT-4000": (100, 30),
    "HSG-100": (100, 30), "SCR-M1": (2000, 500), "ADH-TAPE": (500, 150), "BOX-100": (200, 50),
}
NEW_ORDERS = [("MBD-100", (10, 30)), ("PHN-100", (5, 20))]


@dataclass
class ShiftLog:
    lines: list[str] = field(default_factory=list)
    reports: int = 0
    refused: int = 0

    def __call__(self, message: str) -> None:
        self.lines.append(message)


def _operator():
    user, _ = get_user_model().objects.get_or_create(username=OPERATOR_NAME)
    group = Group.objects.filter(name="operator").first()
    if group is not None:
        user.groups.add(group)
    return user


def _top_up(stamp: str, log: ShiftLog, user) -> None:
    dock = Location.objects.filter(code=RECEIVING).first() or Location.objects.filter(purpose=Location.Purpose.RECEIVING).first()
    if dock is None:
        return
    for code, (quantity, low) in TOP_UP.items():
        item = Item.objects.filter(code=code).first()
        if item is None:
            continue
        if item.tracking == Item.Tracking.SERIAL:
            on_hand = SerialNumber.objects.filter(item=item, status=SerialNumber.Status.AVAILABLE, current_location__isnull=False).count()
        else:
            usable = StockBalance.objects.filter(item=item, quantity__gt=0).exclude(lot__status=Lot.Status.ON_HOLD)
            on_hand = sum(b.quantity - b.reserved for b in usable)
        if on_hand >= low:
            continue
        kwargs = {"item": item, "location": dock, "quantity": Decimal(quantity), "reference": f"SIM-{stamp}", "user": user}
        if item.tracking == Item.Tracking.LOT:
            kwargs["lot_code"] = f"{code}-{stamp}"
        elif item.tracking == Item.Tracking.SERIAL:
            kwargs["serial_codes"] = [f"{code}-{stamp}-{n:04d}" for n in range(1, int(quantity) + 1)]
        try:
            receive(**kwargs)
            log(f"received {quantity} {code} at {dock.code}")
        except ApplicationError as exc:
            log(f"could not receive {code}: {exc.message}")


def _open_orders(orders: int, rng: random.Random, stamp: str, log: ShiftLog, planner) -> list[WorkOrder]:
    open_statuses = [WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS]
    for order in WorkOrder.objects.filter(status=WorkOrderStatus.DRAFT, item__code__in=[c for c, _ in NEW_ORDERS]).order_by("due_at", "pk"):
        if WorkOrder.objects.filter(status__in=open_statuses).count() >= orders:
            break
        _release(order, log, planner)
    n = 0
    while WorkOrder.objects.filter(status__in=open_statuses).count() < orders and n < orders:
        n += 1
        code, (low, high) = rng.choice(NEW_ORDERS)
        item = Item.objects.filter(code=code).first()
        if item is None:
            break
        order = services.work_order_create(
            data={
                "number": f"WO-SIM-{stamp}-{n:02d}",
                "item": item,
                "quantity": Decimal(rng.randint(low, high)),
                "due_at": timezone.now() + dt.timedelta(days=rng.randint(1, 7)),
                "priority": rng.choice([30, 50, 50, 70, 90]),
            },
            user=planner,
        )
        _release(order, log, planner)
    # boards before phones: the phones' assembly consumes the boards made this shift
    found = WorkOrder.objects.filter(status__in=open_statuses).select_related("item").order_by("-priority", "due_at", "pk")
    return sorted(found, key=lambda order: order.item.code == "PHN-100")


def _release(order: WorkOrder, log: ShiftLog, planner) -> None:
    try:
        result = services.work_order_release(work_order=order, user=planner, allow_shortage=True)
        short = ", ".join(s.item_code for s in result.shortages)
        log(f"released {order.number}" + (f" (short: {short})" if short else ""))
    except ApplicationError as exc:
        log(f"could not release {order.number}: {exc.message}")


def _per_unit(material: WorkOrderMaterial, order: WorkOrder, units: int) -> Decimal:
    places = Decimal(1).scaleb(-min(material.item.unit.decimals, 3))
    # one serial per unit of the BOM (the scrap allowance is for loose material), loose material rounded up
    rounding = ROUND_HALF_UP if material.item.tracking == Item.Tracking.SERIAL else ROUND_CEILING
    return max((material.quantity_required / order.quantity * units).quantize(places, rounding=rounding), places)


def _scan(material: WorkOrderMaterial, quantity: Decimal) -> list[dict] | None:
    """What an operator would scan for ``quantity`` of a tracked component, or None when short."""
    item = material.item
    today = timezone.localdate()
    if item.tracking == Item.Tracking.SERIAL:
        serials = list(
            SerialNumber.objects.filter(item=item, status=SerialNumber.Status.AVAILABLE, current_location__isnull=False)
            .exclude(lot__status=Lot.Status.ON_HOLD)
            .order_by("pk")
            .values_list("code", flat=True)[: int(quantity)]
        )
        if len(serials) < quantity:
            return None
        return [{"item": item.pk, "serial": code, "quantity": Decimal(1)} for code in serials]
    scans, left = [], quantity
    balances = (
        StockBalance.objects.filter(item=item, quantity__gt=0, lot__status=Lot.Status.AVAILABLE)
        .filter(Q(lot__expires_on__isnull=True) | Q(lot__expires_on__gte=today))
        .select_related("lot")
        .order_by("lot__expires_on", "lot__code")
    )
    per_lot: dict[str, Decimal] = {}
    for balance in balances:
        per_lot[balance.lot.code] = per_lot.get(balance.lot.code, Decimal(0)) + balance.quantity - balance.reserved
    for code, free in per_lot.items():
        if left <= 0:
            break
        take = min(free, left)
        if take > 0:
            scans.append({"item": item.pk, "lot": code, "quantity": take})
            left -= take
    return scans if left <= 0 else None


def _waiting_serials(operation: WorkOrderOperation, previous: WorkOrderOperation) -> list[str]:
    live = {"report__kind": ProductionReport.Kind.REPORT, "report__reversed_by__isnull": True, "serial__isnull": False}
    passed = ReportOutput.objects.filter(report__operation=previous, action__in=GOOD_ACTIONS, **live).order_by("pk")
    handled = set(ReportOutput.objects.filter(report__operation=operation, action__in=HANDLED_ACTIONS, **live).values_list("serial_id", flat=True))
    return [row.serial.code for row in passed.select_related("serial") if row.serial_id not in handled]


def _report(operation, previous, order, rng, log: ShiftLog, user, now) -> bool:
    """Report one batch on a running operation; True when something was reported."""
    left = int(order.quantity - operation.quantity_good - operation.quantity_scrap)
    if previous is not None:
        left = min(left, int(previous.quantity_good - operation.quantity_good - operation.quantity_scrap))
    if left <= 0:
        return False
    units = min(left, rng.randint(1, 5))
    scrap = 1 if units > 1 and rng.random() < 0.15 else 0
    good = units - scrap
    reason = ScrapReason.objects.filter(is_active=True).order_by("?").first() if scrap else None
    if scrap and reason is None:
        scrap, good = 0, units
    consumed = []
    for material in WorkOrderMaterial.objects.filter(work_order=order, operation_sequence=operation.sequence).select_related("item", "item__unit"):
        if material.item.tracking == Item.Tracking.NONE:
            continue
        scans = _scan(material, _per_unit(material, order, units))
        if scans is None:
            log(f"{order.number}/{operation.sequence}: waiting for {material.item.code}")
            return False
        consumed += scans
    product = order.item
    kwargs = {"quantity_good": good, "quantity_scrap": scrap, "scrap_reason": reason.code if reason else None, "consumed": consumed}
    if previous is None:
        if product.tracking == Item.Tracking.SERIAL:
            base = ProductionReport.objects.filter(work_order=order).count()
            kwargs["produced_serials"] = [f"{order.number}-{operation.sequence}-{base:03d}-{n}" for n in range(good)]
        elif product.tracking == Item.Tracking.LOT:
            kwargs["produced_lot_code"] = f"{order.number}-L1"
    elif product.tracking == Item.Tracking.SERIAL:
        waiting = _waiting_serials(operation, previous)[:units]
        kwargs["produced_serials"], kwargs["scrapped_serials"] = waiting[:good], waiting[good:]
    kwargs["labor_minutes"] = Decimal(operation.run_minutes_per_unit) * units
    kwargs["recorded_at"] = now
    try:
        services.production_report_create(operation=operation, user=user, **kwargs)
    except ApplicationError as exc:
        log.refused += 1
        log(f"{order.number}/{operation.sequence}: report refused ({exc.code}): {exc.message}")
        return False
    log.reports += 1
    log(f"{order.number}/{operation.sequence}: {good} good" + (f", {scrap} scrap ({reason.code})" if scrap else ""))
    return True


def _work(order: WorkOrder, rng: random.Random, log: ShiftLog, user, now) -> None:
    operations = list(order.operations.order_by("sequence"))
    for index, operation in enumerate(operations):
        operation.refresh_from_db()
        previous = operations[index - 1] if index else None
        if previous is not None:
            previous.refresh_from_db()
        act: Callable | None = None
        if operation.status == OperationStatus.READY:
            act = services.operation_start
        elif operation.status == OperationStatus.PAUSED:
            act = services.operation_resume
        if act is not None:
            try:
                act(operation=operation, user=user, recorded_at=now)
                operation.refresh_from_db()
            except ApplicationError as exc:
                log(f"{order.number}/{operation.sequence}: {exc.message}")
                continue
        if operation.status != OperationStatus.RUNNING:
            continue
        for _ in range(rng.randint(1, 3)):
            if not _report(operation, previous, order, rng, log, user, now):
                break
            operation.refresh_from_db()
        previous_done = previous is None or previous.status == OperationStatus.DONE
        if previous_done and operation.quantity_good + operation.quantity_scrap >= (
            order.quantity if previous is None else previous.quantity_good
        ):
            services.operation_complete(operation=operation, user=user, recorded_at=now)
            log(f"{order.number}/{operation.sequence}: completed")
        elif rng.random() < 0.2:
            services.operation_pause(operation=operation, user=user, recorded_at=now, reason="end of batch")
            log(f"{order.number}/{operation.sequence}: paused")


def _downtime(rng: random.Random, log: ShiftLog, user, now) -> None:
    center = WorkCenter.objects.filter(is_active=True).order_by("?").first()
    reason = DowntimeReason.objects.filter(is_active=True).order_by("?").first()
    if center is None or reason is None:
        return
    open_one = DowntimeEvent.objects.filter(work_center=center, ended_at__isnull=True).first()
    if open_one is not None:
        services.downtime_close(downtime=open_one, ended_at=max(now, open_one.started_at + dt.timedelta(minutes=1)), user=user)
        log(f"downtime on {center.code} closed")
        return
    minutes = rng.randint(5, 40)
    started = now - dt.timedelta(minutes=minutes + rng.randint(0, 60))
    services.downtime_open(work_center=center, reason=reason, started_at=started, ended_at=started + dt.timedelta(minutes=minutes), user=user)
    log(f"downtime on {center.code}: {minutes} min {reason.code}")


def simulate_shift(*, orders: int = 4, seed: int | None = None) -> ShiftLog:
    """One shift of the demo plant (see the module's description); returns what happened."""
    if not WorkCenter.objects.exists() or not Item.objects.filter(code__in=[c for c, _ in NEW_ORDERS]).exists():
        raise ApplicationError("Load the demo plant first (manage.py load_demo_factory).", code="no_demo_plant")
    rng = random.Random(seed)
    log = ShiftLog()
    user = _operator()
    planner = get_user_model().objects.filter(groups__name="planner").order_by("pk").first() or user
    now = timezone.now()
    stamp = now.strftime("%y%m%d%H%M%S")
    _top_up(stamp, log, user)
    for order in _open_orders(orders, rng, stamp, log, planner):
        _work(order, rng, log, user, now)
    _downtime(rng, log, user, now)
    return log
