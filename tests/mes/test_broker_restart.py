"""The outbox survives a broker restart: events committed while Redis is down reach the
subscriber once it is back. Uses its own Redis and Celery worker so the shared ones are not
disturbed."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from mes.events import record_event
from mes.webhooks.services import webhook_subscription_create
from tests.receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("redis did not start")


def wait_for(predicate, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_events_committed_while_the_broker_was_down_are_delivered_after_it_returns(monkeypatch):
    from mes.celery import app
    from mes.tasks import relay_outbox

    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    redis = start_redis(port)
    # This process publishes to the private broker too (connection pools are keyed by URL).
    monkeypatch.setenv("CELERY_BROKER_URL", broker)
    app._pool = None
    app.amqp._producer_pool = None
    worker_env = {**os.environ, "CELERY_BROKER_URL": broker, "DATABASE_URL": _test_database_url()}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "mes", "worker", "--pool=solo", "--without-gossip", "--without-mingle",
         "--loglevel=WARNING", "--hostname", f"restart-test-{port}@%h"],
        cwd=ROOT, env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        with WebhookReceiver() as receiver:
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
        monkeypatch.undo()
        app._pool = None
        app.amqp._producer_pool = None
        worker.terminate()
        worker.wait(timeout=30)
        redis.kill()
        redis.wait()
        connection.close()


def _test_database_url() -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
