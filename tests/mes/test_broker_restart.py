"""The outbox survives a broker restart: events committed while Redis is down reach the
subscriber once it is back. Uses its own Redis and Celery worker so the shared ones are not
disturbed."""

import shutil
import signal
import time

import pytest
from django.db import connection, transaction

from mes.events import record_event
from mes.webhooks.services import webhook_subscription_create
from tests.private_worker import (
    free_port,
    publishing_to,
    start_redis,
    start_worker,
    stop,
    wait_for,
)
from tests.receiver import WebhookReceiver


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_events_committed_while_the_broker_was_down_are_delivered_after_it_returns(monkeypatch):
    from mes.tasks import relay_outbox

    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    redis = start_redis(port)
    worker = start_worker(broker, hostname=f"restart-test-{port}")
    try:
        with publishing_to(monkeypatch, broker), WebhookReceiver() as receiver:
            webhook_subscription_create(url=receiver.url, event_types=[])
            # Given the broker goes down
            redis.send_signal(signal.SIGKILL)
            redis.wait()
            # When events are committed meanwhile (the relay cannot even be queued)
            with transaction.atomic():
                for n in range(5):
                    record_event(type="lot.held", aggregate_type="lot", aggregate_id=n, payload={"n": n})
            assert receiver.requests == []
            # And the broker comes back, and the periodic relay fires
            redis = start_redis(port)
            relay_outbox.apply_async()
            # Then every event arrives exactly once
            assert wait_for(lambda: len(receiver.requests) >= 5)
            time.sleep(1)
            assert len(receiver.requests) == 5
    finally:
        stop(worker)
        redis.kill()
        redis.wait()
        connection.close()
