"""Reads of work orders, their operations and materials, with the joins each screen needs."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from orders.models import BillOfMaterials, BOMLine, Calendar, Routing, RoutingOperation, WorkOrder, WorkOrderOperation


def calendar_list() -> QuerySet[Calendar]:
    return Calendar.objects.prefetch_related("shifts", "exceptions")


def bom_list() -> QuerySet[BillOfMaterials]:
    lines = BOMLine.objects.select_related("component").order_by("position", "id")
    return BillOfMaterials.objects.select_related("item").prefetch_related(Prefetch("lines", queryset=lines))


def routing_list() -> QuerySet[Routing]:
    operations = RoutingOperation.objects.select_related("work_center").order_by("sequence")
    return Routing.objects.select_related("item").prefetch_related(Prefetch("operations", queryset=operations))


def work_order_list() -> QuerySet[WorkOrder]:
    return WorkOrder.objects.select_related("item", "bom", "routing")


def work_order_detail() -> QuerySet[WorkOrder]:
    return work_order_list().prefetch_related(
        Prefetch("operations", queryset=WorkOrderOperation.objects.select_related("work_center").order_by("sequence")),
        "materials__item",
    )


def operation_list() -> QuerySet[WorkOrderOperation]:
    return WorkOrderOperation.objects.select_related("work_order", "work_order__item", "work_center")
