"""Inspections created by what happens elsewhere, inside the transaction of that change.

Registered with ``mes.events.react_to`` in ``QualityConfig.ready()``, so inventory and orders
never import quality:

* ``stock.received`` → the item's active ``receipt`` plans, one inspection per receipt;
* ``production.reported`` → the ``operation`` plans of the item whose routing operation sequence
  is the reported operation's;
* ``work_order.completed`` → the item's ``final`` plans, for the finished lots or serials.

A plan without characteristics has nothing to inspect and is skipped. While a plan's sampling
is discontinued (ISO 2859-1 9.4) the material is held instead of inspected.
"""

from __future__ import annotations

from collections.abc import Iterable

from inventory import services as inventory
from inventory.models import Item, Location, Lot, SerialNumber
from inventory.selectors import on_hand
from mes import sql
from mes.models import Event
from quality import errors
from quality.models import InspectionPlan, Source, Trigger
from quality.services._common import whole_units
from quality.services.inspections import inspection_create


def _plans(*, item_id, trigger: str, sequence=None) -> list[InspectionPlan]:
    """The item's active plans of ``trigger`` (for the routing operation ``sequence`` when given)
    that have characteristics, their item attached, in pk order (one query)."""
    query = (
        f"SELECT {sql.select_columns(InspectionPlan, 'p')}, {sql.select_columns(Item, 'i')} "
        "FROM quality_inspectionplan p JOIN inventory_item i ON i.id = p.item_id "
        "WHERE p.item_id = %s AND p.trigger = %s AND p.is_active = %s "
        + ("AND p.routing_operation_sequence = %s " if sequence is not None else "")
        + "AND EXISTS (SELECT 1 FROM quality_characteristic c WHERE c.plan_id = p.id) ORDER BY p.id"
    )
    params = [item_id, str(trigger), True] + ([sequence] if sequence is not None else [])
    return sql.fetch_models(query, params, [InspectionPlan, sql.Part(Item, parent="inspectionplan", relation="item")])


def _inspect(
    plan: InspectionPlan,
    *,
    lot: Lot | None,
    serials: list[SerialNumber],
    lot_size: int,
    location_id: int | None = None,
    source: str,
    source_document: str,
    work_order_id=None,
    operation_id=None,
    user,
) -> None:
    try:
        inspection_create(
            plan=plan,
            lot=lot if not serials else None,
            serial=serials[0] if len(serials) == 1 else None,
            serials=serials if len(serials) > 1 else (),
            lot_size=lot_size,
            location=Location.objects.filter(pk=location_id).first() if location_id else None,
            work_order_id=work_order_id,
            operation_id=operation_id,
            source=source,
            source_document=source_document,
            check_operation=False,
            user=user,
        )
    except errors.InspectionDiscontinued:
        lots = [lot] if lot is not None and not serials else []
        if lots or serials:
            inventory.place_holds(
                lots=lots,
                serials=serials,
                reason=f"Sampling inspection under plan '{plan}' is discontinued (ISO 2859-1 9.4)",
                user=user,
                source_type="inspection_plan",
                source_id=plan.pk,
            )


def _serials(item_id: int, *, ids: Iterable[int] = (), codes: Iterable[str] = ()) -> list[SerialNumber]:
    ids, codes = list(ids), list(codes)
    if not ids and not codes:
        return []
    rows = SerialNumber.objects.filter(item_id=item_id)
    rows = rows.filter(pk__in=ids) if ids else rows.filter(code__in=codes)
    return list(rows.order_by("pk"))


def on_stock_received(event: Event) -> None:
    payload = event.payload
    plans = _plans(item_id=payload.get("item"), trigger=Trigger.RECEIPT)
    if not plans:
        return
    item_id = payload["item"]
    lot = Lot.objects.filter(pk=payload["lot"]).first() if payload.get("lot") else None
    serials = _serials(item_id, codes=payload.get("serials") or [])
    size = len(serials) or whole_units(payload.get("quantity") or 0)
    if size < 1:
        return
    moves = payload.get("moves") or []
    for plan in plans:
        _inspect(
            plan,
            lot=lot,
            serials=serials,
            lot_size=size,
            location_id=payload.get("to_location"),
            source=Source.RECEIPT,
            source_document=f"stock_move:{moves[0]}" if moves else "",
            user=event.actor,
        )


def _produced(event: Event, *, item_id: int, quantity, lots: list[dict], serials: list[dict], **refs) -> None:
    """Inspections of produced output: one for the serials, or one per lot, or one for the quantity."""
    serial_rows = _serials(item_id, ids=[row["id"] for row in serials if row.get("id")])
    lot_rows = list(Lot.objects.filter(item_id=item_id, pk__in=[row["id"] for row in lots if row.get("id")]).order_by("pk"))
    plans = refs.pop("plans")
    for plan in plans:
        if serial_rows:
            _inspect(plan, lot=None, serials=serial_rows, lot_size=len(serial_rows), user=event.actor, **refs)
        elif lot_rows:
            for lot in lot_rows:
                size = whole_units(quantity) if len(lot_rows) == 1 else whole_units(on_hand(item=item_id, lot=lot))
                if size >= 1:
                    _inspect(plan, lot=lot, serials=[], lot_size=size, user=event.actor, **refs)
        elif whole_units(quantity) >= 1:
            _inspect(plan, lot=None, serials=[], lot_size=whole_units(quantity), user=event.actor, **refs)


def on_production_reported(event: Event) -> None:
    payload = event.payload
    if not payload.get("item_id") or payload.get("operation_sequence") is None:
        return
    plans = _plans(item_id=payload["item_id"], trigger=Trigger.OPERATION, sequence=payload["operation_sequence"])
    if not plans:
        return
    _produced(
        event,
        item_id=payload["item_id"],
        quantity=payload.get("quantity_good") or 0,
        lots=payload.get("produced_lots") or [],
        serials=payload.get("produced_serials") or [],
        plans=plans,
        source=Source.OPERATION,
        source_document=f"production_report:{payload.get('report_id')}",
        work_order_id=payload.get("work_order_id"),
        operation_id=payload.get("operation_id"),
    )


def on_work_order_completed(event: Event) -> None:
    payload = event.payload
    if not payload.get("item_id"):
        return
    plans = _plans(item_id=payload["item_id"], trigger=Trigger.FINAL)
    if not plans:
        return
    _produced(
        event,
        item_id=payload["item_id"],
        quantity=payload.get("quantity") or 0,
        lots=payload.get("finished_lots") or [],
        serials=payload.get("finished_serials") or [],
        plans=plans,
        source=Source.FINAL,
        source_document=f"work_order:{payload.get('work_order_id')}",
        work_order_id=payload.get("work_order_id"),
    )


def register() -> None:
    from mes.events import react_to

    react_to("stock.received", on_stock_received)
    react_to("production.reported", on_production_reported)
    react_to("work_order.completed", on_work_order_completed)
