"""Job-shop benchmark instances as real master data and released work orders.

An OR-Library instance (``jobs machines``, then per job ``machine time`` pairs) becomes one
always-open work center of capacity 1 per machine, and per job one item, one routing (operation
``k`` at sequence ``10 × (k + 1)`` on its machine, no setup, the processing time as run minutes
per unit) and one work order of quantity 1, released through the release service. The instance
then runs through the same models, scheduling service and API as the factory's own orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from inventory.models import Item
from inventory.services import item_create
from mes.errors import ApplicationError
from orders.models import RevisionStatus, WorkCenter, WorkOrder
from orders.scheduling import JobShopInstance
from orders.services.product import routing_create
from orders.services.release import work_order_release
from orders.services.work_centers import work_center_create
from orders.services.work_orders import work_order_create

MAX_PREFIX_LENGTH = 16


@dataclass
class LoadedJobShop:
    work_centers: list[WorkCenter]
    work_orders: list[WorkOrder]


def _code(prefix: str, kind: str, number: int) -> str:
    return f"{prefix}{kind}{number:03d}"


@transaction.atomic
def jobshop_load(*, instance: JobShopInstance, prefix: str, user=None) -> LoadedJobShop:
    """Create and release the instance's work centers, items, routings and work orders.

    Codes are ``<prefix>M000`` (machines) and ``<prefix>J000`` (jobs: item, work order number);
    a prefix already in use is refused (409 ``jobshop_prefix_in_use``)."""
    if not prefix or len(prefix) > MAX_PREFIX_LENGTH:
        raise ApplicationError(
            f"The prefix must have 1 to {MAX_PREFIX_LENGTH} characters.", code="invalid", status=400, field="prefix"
        )
    if (
        WorkCenter.objects.filter(code__startswith=prefix).exists()
        or Item.objects.filter(code__startswith=prefix).exists()
        or WorkOrder.objects.filter(number__startswith=prefix).exists()
    ):
        raise ApplicationError(
            f"Codes starting with {prefix!r} exist already: load the instance under another prefix.",
            code="jobshop_prefix_in_use",
            extra={"prefix": prefix},
        )
    centers = [
        work_center_create(
            data={"code": _code(prefix, "M", m), "name": f"{prefix} machine {m}", "capacity": 1}, user=user
        )
        for m in range(instance.machines)
    ]
    orders = []
    for j, route in enumerate(instance.operations):
        code = _code(prefix, "J", j)
        item = item_create(data={"code": code, "name": f"{prefix} job {j}", "kind": Item.Kind.MANUFACTURED}, user=user)
        routing_create(
            data={
                "item": item,
                "revision": "A",
                "status": RevisionStatus.ACTIVE,
                "operations": [
                    {
                        "sequence": 10 * (k + 1),
                        "name": f"Machine {machine}",
                        "work_center": centers[machine],
                        "setup_minutes": Decimal("0"),
                        "run_minutes_per_unit": Decimal(duration),
                    }
                    for k, (machine, duration) in enumerate(route)
                ],
            },
            user=user,
        )
        order = work_order_create(data={"number": code, "item": item, "quantity": Decimal("1")}, user=user)
        orders.append(work_order_release(work_order=order, user=user).work_order)
    return LoadedJobShop(work_centers=centers, work_orders=orders)
