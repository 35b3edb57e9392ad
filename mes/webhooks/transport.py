"""Posting signed deliveries: kept-alive pooled connections, and a few threads per relay.

A *chain* is the claimed deliveries of one subscription and aggregate, in sequence order. One
thread posts a chain from first to last and stops at its first failure, so an aggregate's
events reach the receiver in order; different chains go at the same time. The relay does all
database work itself, before and after: the threads only sign and post.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable
from urllib.parse import urlsplit

from django.utils import timezone

from mes.models import Event, WebhookDelivery
from mes.webhooks.signing import signed_headers

REQUEST_TIMEOUT_SECONDS = 10
THREADS = 8  # concurrent chains; receivers answer slowly more often than the relay runs out of CPU

_lock = threading.Lock()
_state: dict[str, object] = {}  # per process: a forked worker must not share its parent's sockets or threads
_connections = threading.local()  # per thread: one kept-alive connection per receiver origin


def _executor() -> ThreadPoolExecutor:
    with _lock:
        if _state.get("pid") != os.getpid():
            _state.update(pid=os.getpid(), executor=ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="webhook-relay"))
        return _state["executor"]  # type: ignore[return-value]


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """The receiver closed the idle connection (or sent something unasked): don't reuse it."""
    if connection.sock is None:
        return True
    readable, _, _ = select.select([connection.sock], [], [], 0)
    return bool(readable)


def _connection(origin: tuple[str, str, int]) -> tuple[http.client.HTTPConnection, bool]:
    """This thread's connection to ``origin`` and whether it was used before (so may be stale)."""
    pid, pool = getattr(_connections, "pool", (None, None))
    if pid != os.getpid():
        pool = {}
        _connections.pool = (os.getpid(), pool)
    connection = pool.get(origin)
    if connection is not None and not _dropped(connection):
        return connection, True
    if connection is not None:
        connection.close()
    scheme, host, port = origin
    cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    connection = pool[origin] = cls(host, port, timeout=REQUEST_TIMEOUT_SECONDS)
    return connection, False


def _forget(origin: tuple[str, str, int]) -> None:
    _, pool = getattr(_connections, "pool", (None, {}))
    connection = pool.pop(origin, None)
    if connection is not None:
        connection.close()


def send(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST over this thread's kept-alive connection (headers and body in one write; no redirects,
    no proxies). A connection the receiver dropped while idle is retried once on a fresh one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    for retry in (False, True):
        connection, reused = _connection(origin)
        try:
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(2000)
            if response.will_close or not response.isclosed():  # the receiver closes, or a long answer: start afresh
                _forget(origin)
            return response.status, excerpt
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            _forget(origin)
            if not reused or retry:
                raise
        except Exception:
            _forget(origin)
            raise
    raise AssertionError("unreachable")


def event_body(event: Event) -> str:
    return json.dumps(
        {
            "type": event.type,
            "timestamp": event.occurred_at.isoformat(),
            "data": {
                "sequence": event.sequence,
                "aggregate_type": event.aggregate_type,
                "aggregate_id": event.aggregate_id,
                "payload_version": event.payload_version,
                "payload": event.payload,
            },
        },
        separators=(",", ":"),
    )


@dataclass
class Outcome:
    """One HTTP attempt."""

    delivery: WebhookDelivery
    attempted_at: datetime
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(delivery: WebhookDelivery) -> Outcome:
    body = event_body(delivery.event)
    attempted_at = timezone.now()
    headers = signed_headers(
        secret=delivery.subscription.secret, message_id=f"evt_{delivery.event_id}", timestamp=attempted_at, body=body
    )
    started = time.monotonic()
    try:
        status_code, data = send(delivery.subscription.url, body.encode(), headers)
    except (OSError, http.client.HTTPException, ValueError) as exc:  # refused, timed out, reset, bad URL or reply
        status_code, error, excerpt = None, f"{type(exc).__name__}: {exc}"[:500], ""
    else:
        error, excerpt = "", data.decode("utf-8", "replace")[:500]
    return Outcome(delivery, attempted_at, status_code, error, excerpt, int((time.monotonic() - started) * 1000))


@dataclass
class ChainResult:
    outcomes: list[Outcome] = field(default_factory=list)
    not_attempted: list[WebhookDelivery] = field(default_factory=list)


def post_chains(
    chains: list[list[WebhookDelivery]], *, deadline: float, send: Callable[[WebhookDelivery], Outcome] = post
) -> ChainResult:
    """Post every chain, chains concurrently; within one, in order, stopping at the first failure.

    A subscription whose receiver fails is not tried further this round (its other chains stop
    too), and nothing new is posted after ``deadline`` (``time.monotonic()``), so deliveries are
    settled well before their lease runs out."""
    failing: set[int] = set()

    def run(chain: list[WebhookDelivery]) -> ChainResult:
        result = ChainResult()
        for position, delivery in enumerate(chain):
            if delivery.subscription_id in failing or time.monotonic() > deadline:
                result.not_attempted.extend(chain[position:])
                break
            outcome = send(delivery)
            result.outcomes.append(outcome)
            if not outcome.succeeded:
                failing.add(delivery.subscription_id)
                result.not_attempted.extend(chain[position + 1 :])
                break
        return result

    total = ChainResult()
    if len(chains) == 1:
        results = [run(chains[0])]
    else:
        results = list(_executor().map(run, chains))
    for result in results:
        total.outcomes.extend(result.outcomes)
        total.not_attempted.extend(result.not_attempted)
    return total
