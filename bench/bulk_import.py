"""Bulk import and event relay throughput on PostgreSQL.

Prints items per second for bulk upserts of 10,000 items (10 requests of 1,000 through gunicorn),
work orders per second for 1,000 work orders, and events per second the outbox relay delivers to
a webhook receiver on loopback (in a process of its own, as a receiver would be, so its Python
does not share the relay's interpreter lock).

    .venv/bin/python bench/bulk_import.py [--items 10000] [--work-orders 1000] [--events 5000]
        [--database mes_bench_bulk] [--port 8765]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._harness import fresh_database, gunicorn, setup_django, token_for  # noqa: E402

BATCH = 1000

RECEIVER = """
import sys
sys.path.insert(0, sys.argv[1])
from tests.receiver import WebhookReceiver
with WebhookReceiver() as receiver:
    print(receiver.url, flush=True)
    for _ in sys.stdin:
        print(len(receiver.requests), flush=True)
"""


@contextmanager
def receiver_process():
    """A loopback webhook receiver in its own process; yields (url, count of requests so far)."""
    process = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, str(Path(__file__).resolve().parent.parent)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )

    def received() -> int:
        process.stdin.write("count\n")
        process.stdin.flush()
        return int(process.stdout.readline())

    try:
        yield process.stdout.readline().strip(), received
    finally:
        process.stdin.close()
        process.wait(timeout=30)


def post_batches(base: str, token: str, path: str, records: list[dict]) -> float:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    started = time.perf_counter()
    for start in range(0, len(records), BATCH):
        response = session.post(f"{base}{path}", json={"records": records[start : start + BATCH]}, timeout=300)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.text[:500]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--work-orders", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--database", default="mes_bench_bulk", help="dropped and created afresh")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    url = fresh_database(args.database)
    setup_django(url)
    token = token_for(username="erp-bench", role="integration")

    items = [
        {"external_id": f"MAT-{n:06d}", "code": f"P{n:06d}", "name": f"Part {n}", "tracking": "lot", "unit": "pcs"}
        for n in range(args.items)
    ]
    with gunicorn(url, port=args.port, workers=2) as base:
        created = post_batches(base, token, "/api/v1/items/bulk/", items)
        for record in items:
            record["name"] += " (rev B)"
        updated = post_batches(base, token, "/api/v1/items/bulk/", items)

        from inventory.models import Item

        item_ids = list(Item.objects.order_by("id").values_list("id", flat=True)[: args.work_orders])
        orders = [
            {"external_id": f"PO-{n:06d}", "item": item_ids[n % len(item_ids)], "quantity": "10.000",
             "due_at": "2026-12-31T12:00:00Z", "priority": 50}
            for n in range(args.work_orders)
        ]
        order_seconds = post_batches(base, token, "/api/v1/work-orders/bulk/", orders)

    from django.utils import timezone

    from mes.models import Event, WebhookDelivery
    from mes.webhooks.relay import relay
    from mes.webhooks.services import webhook_subscription_create

    with receiver_process() as (receiver_url, received):
        webhook_subscription_create(url=receiver_url, event_types=[])
        # Outbox rows as services commit them (bulk-inserted so the relay has a backlog to drain).
        now = timezone.now()
        Event.objects.bulk_create(
            Event(type="stock.received", aggregate_type="item", aggregate_id=str(n % 500), payload={"n": n}, occurred_at=now)
            for n in range(args.events)
        )
        started = time.perf_counter()
        while WebhookDelivery.objects.filter(status="delivered").count() < args.events:
            relay(max_seconds=60)
            if time.perf_counter() - started > 300:
                break
        relay_seconds = time.perf_counter() - started
        delivered = received()

    print(f"bulk items (create): {args.items} in {created:.2f} s = {args.items / created:,.0f} items/s")
    print(f"bulk items (update): {args.items} in {updated:.2f} s = {args.items / updated:,.0f} items/s")
    print(f"bulk work orders:    {args.work_orders} in {order_seconds:.2f} s = {args.work_orders / order_seconds:,.0f} work orders/s")
    print(f"relay:               {delivered} events delivered in {relay_seconds:.2f} s = {delivered / relay_seconds:,.0f} events/s")


if __name__ == "__main__":
    main()
