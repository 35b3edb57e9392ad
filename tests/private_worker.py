"""A private Redis and Celery worker for tests that kill or restart them, so the shared broker and
worker of the integration run are not disturbed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


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


def worker_database_url() -> str:
    """The test database, as the worker (another process) reaches it."""
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


@contextmanager
def publishing_to(monkeypatch, broker: str):
    """This process publishes its tasks to ``broker`` meanwhile (connection pools are keyed by URL)."""
    from mes.celery import app

    monkeypatch.setenv("CELERY_BROKER_URL", broker)
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        monkeypatch.undo()
        app._pool = None
        app.amqp._producer_pool = None


def start_worker(broker: str, *, hostname: str, visibility_timeout: int | None = None, env: dict | None = None) -> subprocess.Popen:
    """One solo worker (the job runs in this very process, so killing it kills the job) on ``broker``
    and the test database. ``visibility_timeout`` (seconds) makes it hand back, within about a
    second of that, the jobs of a worker that died."""
    worker_env = {**os.environ, "CELERY_BROKER_URL": broker, "DATABASE_URL": worker_database_url(), **(env or {})}
    if visibility_timeout is not None:
        worker_env["CELERY_BROKER_TRANSPORT_OPTIONS"] = json.dumps(
            {"visibility_timeout": visibility_timeout, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
        )
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "mes", "worker", "--pool=solo", "--without-gossip", "--without-mingle",
         "--loglevel=WARNING", "--hostname", f"{hostname}@%h"],
        cwd=ROOT, env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def kill(process: subprocess.Popen) -> None:
    """SIGKILL: no clean shutdown, no chance to hand anything back."""
    process.send_signal(signal.SIGKILL)
    process.wait()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill(process)
