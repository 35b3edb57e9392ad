"""Signed webhook deliveries: signatures, retries with backoff, ordering, relay, replay."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from mes.events import record_event
from mes.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from mes.webhooks import relay as relay_module
from mes.webhooks.relay import deliver_due, fan_out, relay, retry_delay
from mes.webhooks.services import webhook_subscription_create
from tests.receiver import WebhookReceiver


@pytest.fixture
def receiver():
    with WebhookReceiver() as running:
        yield running


def sequence_of(event):
    event.refresh_from_db()
    return event.sequence


def emit(event_type="work_order.released", aggregate_id=1, **payload):
    with transaction.atomic():
        return record_event(type=event_type, aggregate_type="work_order", aggregate_id=aggregate_id, payload=payload)


@pytest.mark.django_db
def test_delivery_is_signed_per_standard_webhooks(receiver):
    subscription = webhook_subscription_create(url=receiver.url, event_types=["work_order.released"])
    event = emit(number="WO-1")
    relay(max_seconds=5)
    headers, body = receiver.requests[0]
    payload = Webhook(subscription.secret).verify(body, headers)
    assert payload["type"] == "work_order.released"
    assert payload["data"]["sequence"] == sequence_of(event)
    assert payload["data"]["payload"] == {"number": "WO-1"}
    assert headers["webhook-id"] == f"evt_{event.id}"


@pytest.mark.django_db
def test_only_subscribed_event_types_are_delivered(receiver):
    webhook_subscription_create(url=receiver.url, event_types=["lot.held"])
    emit("work_order.released")
    emit("lot.held")
    relay(max_seconds=5)
    assert [json.loads(body)["type"] for _, body in receiver.requests] == ["lot.held"]


@pytest.mark.django_db
def test_receiver_failing_twice_gets_the_event_three_times_then_no_more(receiver, settings):
    webhook_subscription_create(url=receiver.url, event_types=[])
    receiver.fail_next = 2
    emit()
    fan_out()
    now = timezone.now()
    assert deliver_due(now=now) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert deliver_due(now=now) == 0  # backing off
    assert deliver_due(now=delivery.next_attempt_at + timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert deliver_due(now=delivery.next_attempt_at + timedelta(seconds=1)) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert deliver_due(now=timezone.now() + timedelta(days=2)) == 0
    assert len(receiver.requests) == 3
    assert [a.status_code for a in WebhookAttempt.objects.order_by("id")] == [500, 500, 204]


def test_backoff_grows_exponentially_with_jitter_and_spans_a_day():
    import random

    rng = random.Random(7)
    delays = [retry_delay(n, rng=rng).total_seconds() for n in range(1, 30)]
    assert 22 <= delays[0] <= 38
    assert delays[3] > delays[0] * 4
    assert max(delays) <= 2 * 3600 * 1.25
    assert sum(delays) > 24 * 3600


@pytest.mark.django_db
def test_events_of_one_aggregate_arrive_in_sequence_even_after_a_failure(receiver, settings):
    webhook_subscription_create(url=receiver.url, event_types=[])
    receiver.fail_next = 1
    first = emit("work_order.released", aggregate_id=7)
    second = emit("operation.started", aggregate_id=7)
    fan_out()
    assert deliver_due() == 1  # the first fails; the second, queued behind it, is not tried
    other = emit("work_order.released", aggregate_id=8)
    fan_out()
    deliver_due()
    # the first is backing off: the second waits for it, another aggregate goes ahead
    delivered = lambda: [  # noqa: E731
        json.loads(b)["data"]["sequence"] for h, b in receiver.requests
    ]
    first, second, other = sequence_of(first), sequence_of(second), sequence_of(other)
    assert second not in delivered()
    assert other in delivered()
    later = timezone.now() + timedelta(hours=1)
    deliver_due(now=later)
    deliver_due(now=later)
    sequence_for_7 = [s for s in delivered() if s in (first, second)]
    assert sequence_for_7 == [first, first, second]


@pytest.mark.django_db
def test_a_backlog_of_one_aggregate_goes_out_in_one_round_in_order(receiver):
    webhook_subscription_create(url=receiver.url, event_types=[])
    for n in range(30):
        emit("operation.completed", aggregate_id=5, n=n)
    for n in range(3):
        emit("operation.completed", aggregate_id=6, n=n)
    fan_out()
    assert deliver_due() == 33  # the first of each aggregate brings the ones queued behind it
    received = [json.loads(body)["data"] for _, body in receiver.requests]
    assert [d["payload"]["n"] for d in received if d["aggregate_id"] == "5"] == list(range(30))
    assert [d["payload"]["n"] for d in received if d["aggregate_id"] == "6"] == [0, 1, 2]
    assert WebhookAttempt.objects.count() == 33
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.django_db
def test_aggregates_go_out_side_by_side_and_each_stays_in_order_through_failures(receiver):
    # Given 20 aggregates with 5 events each, and a receiver that fails a few requests
    webhook_subscription_create(url=receiver.url, event_types=[])
    for n in range(5):
        for aggregate in range(20):
            emit("operation.completed", aggregate_id=aggregate, n=n)
    receiver.fail_next = 3
    fan_out()
    # When the relay runs rounds (later and later, past the backoff) until everything is delivered
    later = timezone.now()
    for _ in range(20):
        if not WebhookDelivery.objects.filter(status="pending").exists():
            break
        deliver_due(now=later)
        later += timedelta(hours=3)
    # Then every event arrived, and each aggregate's requests — retries included — never went backwards
    assert WebhookDelivery.objects.filter(status="delivered").count() == 100
    per_aggregate: dict[str, list[int]] = {}
    for _, body in receiver.requests:
        data = json.loads(body)["data"]
        per_aggregate.setdefault(data["aggregate_id"], []).append(data["payload"]["n"])
    assert all(ns == sorted(ns) and set(ns) == set(range(5)) for ns in per_aggregate.values())
    assert len(receiver.requests) == 103
    assert WebhookAttempt.objects.count() == 103


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_relays_running_side_by_side_share_the_work_and_keep_each_aggregate_in_order(receiver):
    # Given a backlog over 10 aggregates (written as the outbox holds it, without kicking a relay)
    webhook_subscription_create(url=receiver.url, event_types=[])
    Event.objects.bulk_create(
        Event(type="operation.completed", aggregate_type="work_order", aggregate_id=str(a), payload={"n": n}, occurred_at=timezone.now())
        for n in range(20)
        for a in range(10)
    )
    fan_out()

    # When three relays claim small batches at the same time until nothing is left
    def relay_loop():
        try:
            while deliver_due(limit=15):
                pass
        finally:
            connection.close()

    threads = [threading.Thread(target=relay_loop) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Then every event went out once, and each aggregate's in order
    assert WebhookDelivery.objects.filter(status="delivered").count() == 200
    per_aggregate: dict[str, list[int]] = {}
    for _, body in receiver.requests:
        data = json.loads(body)["data"]
        per_aggregate.setdefault(data["aggregate_id"], []).append(data["payload"]["n"])
    assert len(receiver.requests) == 200
    assert all(ns == list(range(20)) for ns in per_aggregate.values())


@pytest.mark.django_db
def test_a_receiver_far_behind_leaves_further_events_in_the_outbox_until_it_catches_up(receiver, monkeypatch):
    monkeypatch.setattr(relay_module, "PENDING_CAP", 3)
    subscription = webhook_subscription_create(url=receiver.url, event_types=[])
    for n in range(10):
        emit("operation.completed", aggregate_id=n)
    fan_out(batch=4)
    fan_out(batch=4)  # 4 pending already: over the cap, the cursor waits
    assert WebhookDelivery.objects.count() == 4
    relay(max_seconds=5)  # delivering makes room; the rest follow
    assert WebhookDelivery.objects.filter(status="delivered").count() == 10
    subscription.refresh_from_db()
    assert subscription.cursor == Event.objects.order_by("-sequence").first().sequence


def test_a_kept_alive_connection_the_receiver_dropped_is_replaced():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from mes.webhooks.transport import send

    class ClosesAfterEachAnswer(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # answers as keep-alive, then hangs up anyway

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ClosesAfterEachAnswer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        assert send(url, b"{}", {"content-type": "application/json"})[0] == 204
        time.sleep(0.1)
        assert send(url, b"{}", {"content-type": "application/json"})[0] == 204
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_subscription_failing_for_a_day_is_disabled_and_can_be_replayed(receiver, settings, operator_client, api_client_for):
    subscription = webhook_subscription_create(url=receiver.url, event_types=[])
    receiver.fail_next = 1000
    emit()
    fan_out()
    deliver_due()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(failing_since=timezone.now() - timedelta(hours=25))
    deliver_due(now=timezone.now() + timedelta(hours=2))
    subscription.refresh_from_db()
    assert not subscription.is_active and subscription.disabled_reason

    receiver.fail_next = 0
    erp = api_client_for("integration")
    first_sequence = Event.objects.order_by("sequence").first().sequence
    response = erp.post(f"/api/v1/webhooks/{subscription.pk}/replay/", {"from_sequence": first_sequence}, format="json")
    assert response.status_code == 200 and response.json()["is_active"]
    relay(max_seconds=5)
    assert WebhookDelivery.objects.filter(status="delivered").count() == 1
    log = erp.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/").json()["results"]
    assert {row["status"] for row in log} == {"delivered", "failed"}


@pytest.mark.django_db
def test_relay_delivers_events_committed_while_no_worker_ran(receiver):
    # Given events committed while nothing relayed them (no kick ran, no worker)
    webhook_subscription_create(url=receiver.url, event_types=[])
    emit("lot.held")
    emit("lot.released")
    assert receiver.requests == []
    # When the periodic relay job runs later
    from mes.tasks import relay_outbox

    relay_outbox.apply()
    # Then every event is delivered, in order
    assert [json.loads(body)["type"] for _, body in receiver.requests] == ["lot.held", "lot.released"]


@pytest.mark.django_db
def test_webhook_secret_must_be_a_standard_secret(erp_client):
    response = erp_client.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/x", "secret": "hunter2"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "secret"
    created = erp_client.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/x", "event_types": ["lot.held"]}, format="json")
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    listed = erp_client.get("/api/v1/webhooks/").json()["results"][0]
    assert "secret" not in listed


@pytest.mark.django_db
def test_operators_cannot_manage_webhooks(operator_client):
    assert operator_client.get("/api/v1/webhooks/").status_code == 403
    assert operator_client.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/"}, format="json").status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_feed_never_skips_an_event_that_commits_after_a_later_one(operator_client):
    # Given transaction A inserts its event first and stays open while B inserts one and commits
    a_recorded, b_committed, a_may_commit = threading.Event(), threading.Event(), threading.Event()

    def transaction_a():
        try:
            with transaction.atomic():
                record_event(type="a", aggregate_type="x", aggregate_id=1, payload={})
                a_recorded.set()
                a_may_commit.wait(10)
        finally:
            connection.close()

    def transaction_b():
        try:
            a_recorded.wait(10)
            with transaction.atomic():
                record_event(type="b", aggregate_type="x", aggregate_id=2, payload={})
        finally:
            connection.close()
            b_committed.set()

    ta, tb = threading.Thread(target=transaction_a), threading.Thread(target=transaction_b)
    ta.start(), tb.start()
    b_committed.wait(10)
    # When a reader reads the feed while A is still open, then A commits, and the reader goes on
    first_read = operator_client.get("/api/v1/events/").json()["results"]
    a_may_commit.set()
    ta.join(), tb.join()
    last_seen = first_read[-1]["sequence"]
    second_read = operator_client.get(f"/api/v1/events/?after_sequence={last_seen}").json()["results"]
    # Then B came first, and A — inserted earlier, committed later — still reached the reader after it
    assert [e["type"] for e in first_read] == ["b"]
    assert [e["type"] for e in second_read] == ["a"]
    a_id = second_read[0]["id"]
    assert a_id < first_read[0]["id"], "A's row was inserted first but is read after B"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_subscriber_receives_events_in_order_through_the_real_worker(receiver):
    subscription = webhook_subscription_create(url=receiver.url, event_types=[])
    events = [emit("operation.completed", aggregate_id=3, n=n) for n in range(5)]
    from mes.tasks import relay_outbox

    relay_outbox.apply_async()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(receiver.requests) < 5:
        time.sleep(0.2)
    received = [Webhook(subscription.secret).verify(body, headers)["data"]["payload"]["n"] for headers, body in receiver.requests]
    assert received == [0, 1, 2, 3, 4]
    assert [sequence_of(e) for e in events] == sorted(sequence_of(e) for e in events)


@pytest.mark.django_db
def test_the_embedded_relay_asks_for_subscriptions_once_a_second_and_sees_a_new_one_at_once():
    from django.test.utils import CaptureQueriesContext

    # Given no subscription, asked about once
    relay_module._subscriptions_changed()
    assert relay_module._any_active_subscription() is False

    # Then asking again within the second reads nothing
    with CaptureQueriesContext(connection) as queries:
        assert relay_module._any_active_subscription() is False
    assert queries.captured_queries == []

    # And a subscription saved now is seen at the next ask
    webhook_subscription_create(url="http://127.0.0.1:9/hook", event_types=["*"])
    assert relay_module._any_active_subscription() is True
