"""What a label says: the lot, serial number or work order, and the code its barcode carries.

The barcode carries exactly what an operator types into the scan field of the floor page (the
lot code, the serial number, the work order number), so a scanner acting as a keyboard works.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Sum

from inventory.models import Lot, SerialNumber, StockBalance
from mes.errors import NotFound
from mes.quantities import ZERO
from orders.models import WorkOrder

KINDS = ("lot", "serial", "work-order")


@dataclass(frozen=True)
class Label:
    kind: str
    title: str
    code: str
    heading: str
    lines: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in self.code)
        return f"{self.kind}-{safe}"


def _number(value) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def lot_label(*, pk: int) -> Label:
    lot = Lot.objects.select_related("item", "item__unit").filter(pk=pk).first()
    if lot is None:
        raise NotFound(f"There is no lot {pk}.")
    on_hand = StockBalance.objects.filter(lot=lot).aggregate(total=Sum("quantity"))["total"] or ZERO
    lines = [f"Lot {lot.code}"]
    if lot.expires_on:
        lines.append(f"Expires {lot.expires_on:%Y-%m-%d}")
    if lot.supplier_lot:
        lines.append(f"Supplier lot {lot.supplier_lot}")
    lines.append(f"On hand {_number(on_hand)} {lot.item.unit_id}")
    if lot.status != Lot.Status.AVAILABLE:
        lines.append(f"Status: {lot.get_status_display().upper()}")
    return Label(kind="lot", title="LOT", code=lot.code, heading=f"{lot.item.code}  {lot.item.name}", lines=lines)


def serial_label(*, pk: int) -> Label:
    serial = SerialNumber.objects.select_related("item", "lot", "current_location").filter(pk=pk).first()
    if serial is None:
        raise NotFound(f"There is no serial number {pk}.")
    lines = [f"S/N {serial.code}"]
    if serial.lot_id:
        lines.append(f"Lot {serial.lot.code}")
    if serial.current_location_id:
        lines.append(f"At {serial.current_location.code}")
    if serial.status != SerialNumber.Status.AVAILABLE:
        lines.append(f"Status: {serial.get_status_display().upper()}")
    return Label(kind="serial", title="SERIAL NUMBER", code=serial.code, heading=f"{serial.item.code}  {serial.item.name}", lines=lines)


def work_order_label(*, pk: int) -> Label:
    order = WorkOrder.objects.select_related("item", "item__unit").filter(pk=pk).first()
    if order is None:
        raise NotFound(f"There is no work order {pk}.")
    lines = [f"{order.item.code}  {order.item.name}", f"Quantity {_number(order.quantity)} {order.item.unit_id}"]
    if order.due_at:
        lines.append(f"Due {order.due_at:%Y-%m-%d %H:%M %Z}")
    lines.append(f"Priority {order.priority} · {order.get_status_display()}")
    return Label(kind="work-order", title="WORK ORDER", code=order.number, heading=order.number, lines=lines)


def label_for(*, kind: str, pk: int) -> Label:
    if kind == "lot":
        return lot_label(pk=pk)
    if kind == "serial":
        return serial_label(pk=pk)
    if kind == "work-order":
        return work_order_label(pk=pk)
    raise NotFound(f"There are no {kind} labels.")
