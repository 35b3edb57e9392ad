"""The processes around the soak's web server: Celery worker and beat, and the webhook subscriber."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

from bench._harness import PYTHON, ROOT, env_for


class CeleryProcesses:
    """One ``celery worker`` (replaceable mid-run) and one ``celery beat`` against one broker."""

    def __init__(self, database_url: str, broker: str, *, concurrency: int = 2) -> None:
        self.database_url, self.broker, self.concurrency = database_url, broker, concurrency
        self.directory = Path(tempfile.mkdtemp(prefix="mes-soak-"))
        self.worker: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.workers_started = 0

    def _start(self, *arguments: str, log: str) -> subprocess.Popen:
        with open(self.directory / log, "ab") as handle:
            return subprocess.Popen(
                [PYTHON, "-m", "celery", "-A", "mes", *arguments, "--loglevel=WARNING"],
                cwd=ROOT,
                env=env_for(self.database_url, CELERY_BROKER_URL=self.broker),
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_worker(self) -> subprocess.Popen:
        self.workers_started += 1
        self.worker = self._start(
            "worker", f"--concurrency={self.concurrency}", "--without-gossip", "--without-mingle",
            "--hostname", f"soak-{self.workers_started}-{os.getpid()}@%h", log=f"worker-{self.workers_started}.log",
        )
        return self.worker

    def start_beat(self) -> subprocess.Popen:
        self.beat = self._start("beat", "--schedule", str(self.directory / "beat-schedule"), log="beat.log")
        return self.beat

    def restart_worker(self, *, kill: bool = False, timeout: float = 120.0) -> float:
        """Stop the worker (warm shutdown, or SIGKILL) and start a new one; returns the seconds
        without a worker."""
        started = time.monotonic()
        _stop(self.worker, signal.SIGKILL if kill else signal.SIGTERM, timeout=timeout)
        self.start_worker()
        return time.monotonic() - started

    def stop(self) -> None:
        for process in (self.beat, self.worker):
            _stop(process, signal.SIGTERM, timeout=60)

    def log_tail(self, lines: int = 30) -> str:
        """The last log records of each process (JSON lines and Celery's own), banners left out."""
        out = []
        for path in sorted(self.directory.glob("*.log")):
            records = [line for line in path.read_text(errors="replace").splitlines() if line.startswith(("{", "["))]
            text = records[-lines:]
            if text:
                out.append(f"--- {path.name} ---")
                out.extend(text)
        return "\n".join(out)


def _stop(process: subprocess.Popen | None, sig: int, *, timeout: float) -> None:
    """Signal the process (its children are Celery's pool: the main process stops them)."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    if sig == signal.SIGKILL:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the pool's children, orphaned by the kill
        except ProcessLookupError:
            pass


class Subscriber:
    """A webhook receiver on loopback: verifies each signature, records each event id once and
    counts repeats. Answers 204."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.event_ids: set[int] = set()
        self.deliveries = 0
        self.repeats = 0
        self.bad_signatures = 0
        self.types: Counter[str] = Counter()
        self._lock = threading.Lock()
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                subscriber.receive({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/soak-hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, headers: dict[str, str], body: bytes) -> None:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        signed = True
        if self.secret:
            try:
                Webhook(self.secret).verify(body, headers, json_parse=False)
            except WebhookVerificationError:
                signed = False
        message_id = headers.get("webhook-id", "")
        event_id = int(message_id[4:]) if message_id.startswith("evt_") and message_id[4:].isdigit() else None
        try:
            event_type = json.loads(body).get("type", "?")
        except ValueError:
            event_type = "?"
        with self._lock:
            self.deliveries += 1
            self.bad_signatures += 0 if signed else 1
            if event_id is None:
                return
            if event_id in self.event_ids:
                self.repeats += 1
            else:
                self.event_ids.add(event_id)
                self.types[event_type] += 1

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
