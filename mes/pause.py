"""Pause points: named places in a long job where a test can hold the worker, to kill it there.

Inert unless the setting ``MES_PAUSE_DIR`` names a directory (never in production): then
reaching point ``name`` appends the process id to ``<dir>/<name>.reached`` and waits while
``<dir>/<name>.hold`` exists (two minutes at most). Every Celery task also passes the point
``<task name>.returned`` after its work, before its message is acknowledged.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings

MAX_WAIT_SECONDS = 120


def pause_point(name: str) -> None:
    directory = getattr(settings, "MES_PAUSE_DIR", "")
    if not directory:
        return
    with Path(directory, f"{name}.reached").open("a") as reached:
        reached.write(f"{os.getpid()}\n")
    hold = Path(directory, f"{name}.hold")
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while hold.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
