"""Soak: minutes of mixed shop-floor, planning, ERP and trace traffic on PostgreSQL, with a real
Celery worker (restarted half-way) and beat delivering webhooks, then exactly-once checks.

Creates its own database (``--db``, default ``mes_bench_soak``), empties the Redis database of
``--broker`` (default ``redis://127.0.0.1:6379/14``), loads the demo plant (``load_demo_factory``)
with deep lots of the main board's components at the SMT line, and starts gunicorn, one
``celery worker`` and ``celery beat``. The ERP subscribes a webhook receiver on loopback to every
event. Then, for ``--minutes``, client threads (see ``bench/_soak_roles.py``): operators starting
operations and reporting boards (lots consumed, serials produced), planners releasing work
orders, an ERP upserting items and work orders one by one and in bulk, tracers asking backward
and forward traces. Every write has an ``Idempotency-Key``; some lose their answer and are sent
again with the same key (flaky Wi-Fi), some are repeated after their answer. At
``--restart-at`` of the run the worker is stopped (warm shutdown; ``--kill``: SIGKILL) and a new
one started.

At the end it waits for the outbox to drain and checks: (1) the ledger invariant; (2) every
acknowledged request's effect exists exactly once (reports, their serials and idempotency keys;
upserted external ids and their last acknowledged values; releases, starts, completions; repeated
requests replayed); (3) every event recorded since the subscription reached the subscriber, with
a valid signature; (4) no 5xx, no refusal other than the correct ones (409 over-report, a planner
releasing an order another one released, the ERP changing an order already released), no request
dropped. Exits 1 when a check fails.

    .venv/bin/python bench/soak.py                  # 10 minutes
    .venv/bin/python bench/soak.py --minutes 1      # smoke run
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _soak_checks as checks
from bench import _soak_roles as roles
from bench._harness import fresh_database, gunicorn, log, percentile, setup_django
from bench._soak_clients import Client, Ledger
from bench._soak_plant import build
from bench._soak_services import CeleryProcesses, Subscriber


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of load (default 10)")
    parser.add_argument("--db", default="mes_bench_soak")
    parser.add_argument("--broker", default=os.environ.get("MES_BENCH_BROKER", "redis://127.0.0.1:6379/14"),
                        help="Redis database for Celery; emptied first (default redis://127.0.0.1:6379/14)")
    parser.add_argument("--operators", type=int, default=5)
    parser.add_argument("--planners", type=int, default=2)
    parser.add_argument("--erp", type=int, default=1)
    parser.add_argument("--tracers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (default 2)")
    parser.add_argument("--think", type=float, default=0.05, help="mean seconds a client waits between requests")
    parser.add_argument("--lost-share", type=float, default=0.03, help="share of writes whose answer is lost, then sent again")
    parser.add_argument("--retry-share", type=float, default=0.05, help="share of writes repeated after their answer")
    parser.add_argument("--over-report-share", type=float, default=0.3, help="share of orders reported one board too many")
    parser.add_argument("--lots", type=int, default=6, help="lots of each scanned component (default 6)")
    parser.add_argument("--restart-at", type=float, default=0.5, help="fraction of the run at which the worker is replaced")
    parser.add_argument("--kill", action="store_true", help="SIGKILL the worker instead of a warm shutdown")
    parser.add_argument("--drain-timeout", type=float, default=900.0, help="seconds to wait for the outbox to drain")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def empty_broker(broker: str) -> None:
    import redis

    redis.Redis.from_url(broker).flushdb()


def subscribe(base: str, token: str, subscriber: Subscriber) -> tuple[int, int]:
    import requests

    response = requests.post(
        f"{base}/api/v1/webhooks/",
        json={"url": subscriber.url, "event_types": [], "description": "soak subscriber"},
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    subscriber.secret = body["secret"]
    return body["id"], body["cursor"] + 1


def start_clients(args, base: str, plant, floor: roles.Floor, ledger: Ledger) -> list[threading.Thread]:
    threads = []
    for role, target, extra in (
        ("operator", roles.operator, (args.think, args.over_report_share)),
        ("planner", roles.planner, (args.think,)),
        ("integration", roles.erp, (args.think,)),
        ("quality", roles.tracer, (args.think,)),
    ):
        for n, (name, token) in enumerate(zip(plant.users[role], plant.tokens[role], strict=True)):
            client = Client(
                base=base, token=token, name=name, ledger=ledger, rng=random.Random(f"{args.seed}-{name}"),
                lost_share=args.lost_share, retry_share=args.retry_share,
            )
            thread = threading.Thread(target=target, args=(client, floor, *extra), name=name, daemon=True)
            threads.append(thread)
    for thread in threads:
        thread.start()
    return threads


def run(args, url: str, broker: str, plant, ledger: Ledger):
    floor = roles.Floor(plant, args.operators)
    seconds = args.minutes * 60
    with Subscriber() as subscriber, gunicorn(url, port=args.port, workers=args.workers,
                                              CELERY_BROKER_URL=broker, DB_CONN_MAX_AGE="600") as base:
        celery = CeleryProcesses(url, broker, concurrency=args.concurrency)
        celery.start_worker()
        celery.start_beat()
        try:
            subscription, first_sequence = subscribe(base, plant.tokens["integration"][0], subscriber)
            log(f"gunicorn ({args.workers} workers), celery worker ({args.concurrency}) and beat up; "
                f"{sum(len(u) for u in plant.users.values())} clients for {args.minutes:g} min")
            started = time.monotonic()
            threads = start_clients(args, base, plant, floor, ledger)
            restart_at, restart, next_progress = started + args.restart_at * seconds, None, started + 30
            while (now := time.monotonic()) < started + seconds:
                if restart is None and now >= restart_at:
                    log(f"replacing the celery worker ({'SIGKILL' if args.kill else 'warm shutdown'})")
                    gap = celery.restart_worker(kill=args.kill)
                    restart = (now - started, gap)
                    log(f"new worker started after {gap:.1f} s without one")
                if now >= next_progress:
                    _progress(ledger, floor, subscriber, now - started)
                    next_progress += 30
                time.sleep(0.5)
            floor.stop.set()
            for thread in threads:
                thread.join(timeout=180)
            elapsed = time.monotonic() - started
            log(f"load stopped after {elapsed:.0f} s; waiting for the outbox to drain")
            drained, drain_seconds = checks.wait_for_drain(
                subscription_id=subscription, subscriber=subscriber, timeout=args.drain_timeout, log=log
            )
            log(f"outbox {'drained' if drained else 'NOT drained'} in {drain_seconds:.0f} s")
        finally:
            floor.stop.set()
            celery.stop()
        worker_log = celery.log_tail()
    return {
        "elapsed": elapsed, "restart": restart, "drain": drain_seconds, "subscriber": subscriber,
        "subscription": subscription, "first_sequence": first_sequence, "worker_log": worker_log,
    }


def _progress(ledger: Ledger, floor: roles.Floor, subscriber: Subscriber, elapsed: float) -> None:
    served = sum(1 for call in ledger.calls if call[1])
    log(f"{elapsed:4.0f} s: {served} requests, {len(ledger.reports)} reports, {floor.orders_released} orders released, "
        f"{len(subscriber.event_ids)} events received")


def summarise(args, ledger: Ledger, result: dict, load: tuple[float, float]) -> None:
    calls = ledger.calls
    answered = [c for c in calls if c[1]]
    print()
    print(f"requests served:       {len(answered)} in {result['elapsed']:.0f} s ({len(answered) / result['elapsed']:.1f}/s), "
          f"load average before / after {load[0]:.2f} / {load[1]:.2f} on {os.cpu_count()} cores")
    print(f"by status:             {dict(sorted(Counter(c[1] for c in calls).items()))}")
    print(f"answers lost on purpose and sent again with the same key: {ledger.lost_answers}; "
          f"writes repeated after their answer: {len(ledger.replays)}")
    legitimate = Counter((c[0], c[1], c[3]) for c in calls if 400 <= c[1] < 500 and c[4])
    print(f"correct refusals (4xx): {sum(legitimate.values())}")
    for (kind, status, code), n in sorted(legitimate.items()):
        print(f"    {n:6d}  {status} {code or '-'}  ({kind})")
    other = Counter((c[0], c[1], c[3]) for c in calls if (400 <= c[1] < 500 and not c[4]) or c[1] >= 500 or c[1] == 0)
    print(f"errors (5xx, other 4xx, dropped): {sum(other.values())}")
    for (kind, status, code), n in sorted(other.items()):
        print(f"    {n:6d}  {status or 'no answer'} {code or '-'}  ({kind})")
    latencies = defaultdict(list)
    for kind, status, seconds, _, _ in answered:
        latencies[kind].append(seconds * 1000)
    everything = [ms for values in latencies.values() for ms in values]
    print(f"latency p50 / p95 (ms): {percentile(everything, 0.5):.0f} / {percentile(everything, 0.95):.0f} overall")
    for kind, values in sorted(latencies.items()):
        print(f"    {kind:<28} {len(values):6d}  p50 {percentile(values, 0.5):6.0f}  p95 {percentile(values, 0.95):6.0f}  "
              f"max {max(values):6.0f}")
    subscriber = result["subscriber"]
    print(f"events recorded:       {checks.events_since(result['first_sequence'])} since the subscription")
    print(f"events delivered:      {len(subscriber.event_ids)} distinct in {subscriber.deliveries} deliveries "
          f"({subscriber.repeats} repeats); outbox drained {result['drain']:.0f} s after the load")
    print("    " + ", ".join(f"{kind} {n}" for kind, n in subscriber.types.most_common()))
    if result["restart"]:
        at, gap = result["restart"]
        print(f"worker replaced:       at {at:.0f} s, {gap:.1f} s without a worker")


def main() -> None:
    args = parse_args()
    log(f"creating database {args.db}, emptying {args.broker}")
    empty_broker(args.broker)
    url = fresh_database(args.db)
    setup_django(url)
    from django.db import connection

    clients = {"operator": args.operators, "planner": args.planners, "integration": args.erp, "quality": args.tracers}
    log("loading the demo plant and the soak's stock")
    plant = build(lots_per_component=args.lots, clients=clients)
    connection.close()

    ledger = Ledger()
    load_before = os.getloadavg()[0]
    result = run(args, url, args.broker, plant, ledger)
    load_after = os.getloadavg()[0]
    summarise(args, ledger, result, (load_before, load_after))

    log("checking")
    results = [
        ("(1) ledger: every balance equals the sum of its moves", checks.ledger_invariant()),
        ("(2) every acknowledged request's effect exists exactly once", checks.exactly_once(ledger, plant.users["operator"])),
        ("(3) every event delivered to the subscriber at least once", checks.delivered(
            subscriber=result["subscriber"], subscription_id=result["subscription"], first_sequence=result["first_sequence"])),
        ("(4) no server error, no wrong refusal, no dropped request", checks.answered(ledger)),
    ]
    print()
    for label, problems in results:
        print(f"{label}: {'OK' if not problems else 'FAILED'}")
        for problem in problems:
            print(f"    - {problem}")
    failed = any(problems for _, problems in results)
    if failed:
        print()
        print(result["worker_log"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
