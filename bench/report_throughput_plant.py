"""The plant of the report benchmark: its database, the seeded products and running orders, and
the statements and CPU of one report served in this process (``--profile``)."""

from __future__ import annotations

import os
import statistics
import time

from _harness import drop_and_create, log  # noqa: F401 (log: used by the report benches)

COMPONENTS = ("PCB", "SOC", "MEM")


class Rollback(Exception):
    """Raised inside a measured report's transaction to roll it back."""


def post_report(client, tablet: dict, n: int, *, prefix: str):
    """One report of ``tablet`` (3 lots consumed, serial ``{prefix}-{n}`` produced) through the API
    with its own ``Idempotency-Key``, by a Django test client; it must be created."""
    body = {"quantity_good": "1", "consumed": tablet["consumed"], "produced_serials": [f"{prefix}-{n}"]}
    response = client.post(
        f"/api/v1/operations/{tablet['operation']}/reports/", body, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"{prefix.lower()}-{n}",
    )
    assert response.status_code == 201, response.content
    return response


def create_database(args) -> None:
    drop_and_create(args.pg_url, args.db)


def setup_django(database_url: str, broker: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def seed(args) -> list[dict]:
    """The plant and one running work order per tablet; returns what each tablet needs."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from inventory.models import Item, Location
    from inventory.services import receive
    from orders import services
    from orders.models import WorkCenter, WorkOrder

    stores = Location.objects.create(code="STORES", name="Stores", purpose=Location.Purpose.STORAGE)
    line = Location.objects.create(code="LINE", name="Line side", purpose=Location.Purpose.LINE_SIDE, parent=None)
    Location.objects.create(code="FG", name="Finished goods", purpose=Location.Purpose.FINISHED_GOODS)
    clerk = get_user_model().objects.create(username="bench-clerk")
    planner = get_user_model().objects.create(username="bench-planner")
    planner.groups.add(Group.objects.get(name="planner"))
    operator_group = Group.objects.get(name="operator")

    tablets_per_product = [0] * args.products
    for client in range(args.clients):
        tablets_per_product[client % args.products] += 1
    # each tablet reports at most this many boards (a generous ceiling on 60 s at several hundred per second)
    per_order = max(200, int(args.duration + args.warmup) * 60)
    products = []
    for p in range(args.products):
        board = Item.objects.create(code=f"BRD-{p}", name=f"Board {p}", tracking=Item.Tracking.SERIAL, kind=Item.Kind.MANUFACTURED)
        parts = [Item.objects.create(code=f"{c}-{p}", name=f"{c} for board {p}", tracking=Item.Tracking.LOT) for c in COMPONENTS]
        center = WorkCenter.objects.create(code=f"SMT-{p}", name=f"SMT line {p}", line_side_location=line)
        services.bom_create(
            data={
                "item": board,
                "revision": "A",
                "status": "active",
                "lines": [
                    {"component": part, "quantity": Decimal(1), "scrap_factor": Decimal(0), "operation_sequence": 10, "is_phantom": False}
                    for part in parts
                ],
            }
        )
        services.routing_create(
            data={
                "item": board,
                "revision": "A",
                "status": "active",
                "operations": [{"sequence": 10, "name": "SMT", "work_center": center, "setup_minutes": Decimal(10), "run_minutes_per_unit": Decimal(1)}],
            }
        )
        lot_size = Decimal(per_order * tablets_per_product[p] // args.lots + per_order)
        lots = {}
        for part in parts:
            lots[part.pk] = []
            for n in range(args.lots):
                code = f"{part.code}-L{n}"
                receive(item=part, location=line, quantity=lot_size, lot_code=code, user=clerk)
                lots[part.pk].append(code)
        products.append({"board": board, "parts": parts, "lots": lots})
    del stores

    tablets = []
    for client in range(args.clients):
        product = products[client % args.products]
        user = get_user_model().objects.create(username=f"tablet-{client:02d}")
        user.groups.add(operator_group)
        token = Token.objects.create(user=user)
        order = WorkOrder.objects.create(number=f"WO-BENCH-{client:03d}", item=product["board"], quantity=Decimal(per_order))
        order = services.work_order_release(work_order=order, user=planner).work_order
        operation = order.operations.get()
        services.operation_start(operation=operation, user=user)
        tablets.append(
            {
                "client": client,
                "token": token.key,
                "operation": operation.pk,
                # the lots on this tablet's feeders: one per component
                "consumed": [
                    {"item": part.pk, "lot": product["lots"][part.pk][client % args.lots], "quantity": "1"} for part in product["parts"]
                ],
            }
        )
    return tablets


OWNERS = (
    ("SAVEPOINT", "savepoints"),
    ("RELEASE SAVEPOINT", "savepoints"),
    ('"inventory_', "inventory"),
    ("inventory_genealogylink", "inventory"),
    ('"orders_', "orders"),
    ('"quality_', "quality"),
    ('"mes_', "platform"),
    ('"auth', "platform"),
)


def owner(sql: str) -> str:
    for marker, name in OWNERS:
        if sql.startswith(marker) or marker.startswith(('"', "inventory_")) and marker in sql[:200]:
            return name
    return "other"


def profile_reports(tablet: dict, samples: int = 30) -> None:
    """Statements of one report by owner, and the time of one report served in this process
    (single client, no concurrency: the CPU a report costs), each rolled back."""
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {tablet['token']}")
    times, statements, status = [], [], None
    for n in range(samples + 3):
        body = {"quantity_good": "1", "consumed": tablet["consumed"], "produced_serials": [f"PROFILE-{n}"]}
        started = time.perf_counter()
        try:
            with transaction.atomic(), CaptureQueriesContext(connection) as queries:
                response = client.post(
                    f"/api/v1/operations/{tablet['operation']}/reports/", body, content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=f"profile-{n}",
                )
                raise Rollback
        except Rollback:
            pass
        if n >= 3:  # the first ones warm the caches
            times.append((time.perf_counter() - started) * 1000)
        statements, status = [q["sql"] for q in queries.captured_queries], response.status_code
    by_owner: dict[str, int] = {}
    for sql in statements:
        by_owner[owner(sql)] = by_owner.get(owner(sql), 0) + 1
    log(f"one report: HTTP {status}, {len(statements)} statements: " + ", ".join(f"{k} {v}" for k, v in sorted(by_owner.items())))
    log(f"one report served alone in this process: median {statistics.median(times):.1f} ms over {samples} (rolled back)")
    if os.environ.get("MES_BENCH_SHOW_SQL"):
        for sql in statements:
            print(f"    [{owner(sql)}] {sql[:150]}")
