"""Races on PostgreSQL: calls released in threads at the same moment."""

from __future__ import annotations

import threading

from django.db import connection


def race(*calls, barrier_timeout: float | None = None, join_timeout: float = 120):
    """Run ``calls`` in threads released together; return each one's result, or the exception it
    raised (a refusal is often the outcome under test). Each thread closes its connection."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=barrier_timeout)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=join_timeout)
    return outcomes
