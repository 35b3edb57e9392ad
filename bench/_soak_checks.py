"""After the soak: wait for the outbox to drain, then compare the database with what the clients
were told and what the webhook subscriber received. Each check returns its problems (empty: OK)."""

from __future__ import annotations

import json
import time
from collections import Counter
from decimal import Decimal

from bench._soak_clients import ATTEMPTS, Ledger
from bench._soak_services import Subscriber


def wait_for_drain(*, subscription_id: int, subscriber: Subscriber, timeout: float, log) -> tuple[bool, float]:
    """Until every event is sequenced, fanned out to the subscription and delivered (the worker and
    beat do the work; this only reads). Returns (drained, seconds waited)."""
    from django.db.models import Max

    from mes.models import Event, WebhookDelivery, WebhookSubscription

    started = time.monotonic()
    last_log = started
    while True:
        unsequenced = Event.objects.filter(sequence__isnull=True).count()
        top = Event.objects.aggregate(top=Max("sequence"))["top"] or 0
        cursor = WebhookSubscription.objects.values_list("cursor", flat=True).get(pk=subscription_id)
        pending = WebhookDelivery.objects.filter(subscription_id=subscription_id, status="pending").count()
        waited = time.monotonic() - started
        if unsequenced == 0 and cursor >= top and pending == 0:
            return True, waited
        if waited > timeout:
            log(f"outbox not drained after {waited:.0f} s: {unsequenced} unsequenced, {top - cursor} not fanned out, {pending} pending")
            return False, waited
        if time.monotonic() - last_log >= 10:
            last_log = time.monotonic()
            log(f"draining: {unsequenced} events unsequenced, {top - cursor} not fanned out, {pending} deliveries pending, "
                f"{len(subscriber.event_ids)} received")
        time.sleep(1.0)


def ledger_invariant() -> list[str]:
    """(1) every balance equals the sum of its moves (and reserved, serial counts agree)."""
    from inventory.selectors import ledger_discrepancies

    found = ledger_discrepancies()
    return [f"{len(found)} ledger discrepancies, e.g. {found[:3]}"] if found else []


def exactly_once(ledger: Ledger, operators: list[str]) -> list[str]:
    """(2) every acknowledged request's effect exists, once."""
    return [*_reports(ledger, operators), *_upserts(ledger), *_transitions(ledger), *_replays(ledger)]


def _reports(ledger: Ledger, operators: list[str]) -> list[str]:
    from inventory.models import SerialNumber
    from mes.models import IdempotencyRecord
    from orders.models import ProductionReport, ReportOutput, WorkOrderOperation

    problems = []
    acked = ledger.reports
    ids = [row["id"] for row in acked]
    if len(set(ids)) != len(ids):
        problems.append(f"{len(ids) - len(set(ids))} acknowledged reports share an id with another key")
    in_db = set(ProductionReport.objects.filter(user__username__in=operators).values_list("pk", flat=True))
    lost = set(ids) - in_db
    if lost:
        problems.append(f"{len(lost)} acknowledged reports are not in the database, e.g. {sorted(lost)[:5]}")
    unanswered = sum(1 for kind, _ in ledger.unanswered if kind == "operator: report")
    extra = in_db - set(ids)
    if len(extra) > unanswered:
        problems.append(f"{len(extra)} reports in the database were never acknowledged ({unanswered} requests got no answer)")
    over = [row for row in acked if row["over"]]
    if over:
        problems.append(f"{len(over)} reports beyond the order quantity were accepted")

    records = {
        (user, key): (status, body)
        for user, key, status, body in IdempotencyRecord.objects.filter(
            user__username__in=operators, key__in=[row["key"] for row in acked]
        ).values_list("user__username", "key", "status_code", "response_body")
    }
    wrong_key = [row["key"] for row in acked if _stored_id(records.get((row["user"], row["key"]))) != row["id"]]
    if wrong_key:
        problems.append(f"{len(wrong_key)} idempotency keys do not map to their one report, e.g. {wrong_key[:3]}")

    serials = Counter(SerialNumber.objects.filter(code__in=[row["serial"] for row in acked]).values_list("code", flat=True))
    made = dict(ReportOutput.objects.filter(report_id__in=ids, serial__isnull=False).values_list("report_id", "serial__code"))
    bad = [row["serial"] for row in acked if serials.get(row["serial"]) != 1 or made.get(row["id"]) != row["serial"]]
    if bad:
        problems.append(f"{len(bad)} acknowledged serials are missing, doubled or not made by their report, e.g. {bad[:3]}")

    per_operation = Counter(row["operation"] for row in acked)
    good = dict(WorkOrderOperation.objects.filter(pk__in=list(per_operation)).values_list("pk", "quantity_good"))
    off = [op for op, count in per_operation.items() if good.get(op) != Decimal(count)]
    if off and len(off) > unanswered:
        problems.append(f"{len(off)} operations count a good quantity other than their acknowledged reports, e.g. {off[:3]}")
    return problems


def _stored_id(record) -> int | None:
    if record is None or record[0] != 201:
        return None
    return json.loads(bytes(record[1])).get("id")


def _upserts(ledger: Ledger) -> list[str]:
    from inventory.models import Item
    from orders.models import WorkOrder

    problems = []
    for resource, model, fields in (("item", Item, ("name",)), ("work_order", WorkOrder, ("quantity", "priority"))):
        sent = {external_id: rows for (kind, external_id), rows in ledger.upserts.items() if kind == resource}
        counts = Counter(model.objects.filter(external_id__in=list(sent)).values_list("external_id", flat=True))
        state = {row["external_id"]: row for row in model.objects.filter(external_id__in=list(sent)).values("external_id", *fields)}
        missing, doubled, stale, ghosts = [], [], [], []
        for external_id, rows in sent.items():
            outcomes = [outcome for outcome, _ in rows]
            if "acked" not in outcomes:
                if counts.get(external_id) and "unknown" not in outcomes:
                    ghosts.append(external_id)
                continue
            if counts.get(external_id, 0) == 0:
                missing.append(external_id)
                continue
            if counts[external_id] > 1:
                doubled.append(external_id)
            last = max(i for i, outcome in enumerate(outcomes) if outcome == "acked")
            candidates = [body for outcome, body in rows[last:] if outcome != "refused"]
            if not any(_same(state[external_id], body, fields) for body in candidates):
                stale.append(external_id)
        for label, found in (("missing", missing), ("stored more than once", doubled),
                             ("not as last acknowledged", stale), ("present though every write was refused", ghosts)):
            if found:
                problems.append(f"{len(found)} {resource} upserts {label}, e.g. {found[:3]}")
    return problems


def _same(row: dict, body: dict, fields: tuple[str, ...]) -> bool:
    for name in fields:
        value, sent = row[name], body[name]
        if isinstance(value, Decimal) and Decimal(str(sent)) != value or not isinstance(value, Decimal) and value != sent:
            return False
    return True


def _transitions(ledger: Ledger) -> list[str]:
    from orders.models import (
        OperationStatus,
        WorkOrder,
        WorkOrderOperation,
        WorkOrderStatus,
    )

    problems = []
    not_released = list(
        WorkOrder.objects.filter(pk__in=ledger.released, status__in=[WorkOrderStatus.DRAFT, WorkOrderStatus.CANCELLED])
        .values_list("pk", flat=True)
    )
    without_operations = set(ledger.released) - set(
        WorkOrderOperation.objects.filter(work_order_id__in=ledger.released).values_list("work_order_id", flat=True)
    )
    if not_released or without_operations:
        problems.append(f"released orders not released: {not_released[:5]}, without operations: {sorted(without_operations)[:5]}")
    status = dict(WorkOrderOperation.objects.filter(pk__in=ledger.started | ledger.completed).values_list("pk", "status"))
    not_started = [op for op in ledger.started if status.get(op) not in (OperationStatus.RUNNING, OperationStatus.DONE)]
    not_done = [op for op in ledger.completed if status.get(op) != OperationStatus.DONE]
    if not_started or not_done:
        problems.append(f"operations started but not running: {not_started[:5]}; completed but not done: {not_done[:5]}")
    return problems


def _replays(ledger: Ledger) -> list[str]:
    bad = [detail for _, same, detail in ledger.replays if not same]
    return [f"{len(bad)} of {len(ledger.replays)} repeated requests were not replays of the first answer, e.g. {bad[:2]}"] if bad else []


def events_since(first_sequence: int) -> int:
    from mes.models import Event

    return Event.objects.filter(sequence__gte=first_sequence).count()


def delivered(*, subscriber: Subscriber, subscription_id: int, first_sequence: int) -> list[str]:
    """(3) every event recorded since the subscription was delivered to it at least once."""
    from mes.models import Event, WebhookDelivery

    expected = set(Event.objects.filter(sequence__gte=first_sequence).values_list("pk", flat=True))
    problems = []
    missing = expected - subscriber.event_ids
    if missing:
        problems.append(f"{len(missing)} of {len(expected)} events never reached the subscriber, e.g. {sorted(missing)[:5]}")
    unsequenced = Event.objects.filter(sequence__isnull=True).count()
    if unsequenced:
        problems.append(f"{unsequenced} events still without a feed sequence")
    failed = WebhookDelivery.objects.filter(subscription_id=subscription_id).exclude(status="delivered").count()
    if failed:
        problems.append(f"{failed} deliveries not delivered (pending or given up)")
    if subscriber.bad_signatures:
        problems.append(f"{subscriber.bad_signatures} deliveries with a signature that does not verify")
    return problems


def answered(ledger: Ledger) -> list[str]:
    """(4) no server errors, no refusals other than the correct ones, every request answered."""
    server = Counter((kind, status) for kind, status, _, _, _ in ledger.calls if status >= 500)
    unexpected = Counter((kind, status, code) for kind, status, _, code, ok in ledger.calls if 400 <= status < 500 and not ok)
    dropped = Counter(kind for kind, status, _, _, _ in ledger.calls if status == 0)
    problems = []
    if server:
        problems.append(f"server errors: {dict(server)}")
    if dropped:
        problems.append(f"requests the server dropped (no answer, connection closed or timed out): {dict(dropped)}")
    if unexpected:
        problems.append(f"refusals that should not happen: {dict(unexpected)}")
    if ledger.unanswered:
        problems.append(f"{len(ledger.unanswered)} writes got no answer in {ATTEMPTS} attempts: {dict(Counter(k for k, _ in ledger.unanswered))}")
    return problems
