"""Shared plumbing for the benchmarks: a fresh PostgreSQL database, a gunicorn server, tokens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG = os.environ.get("BENCH_PGURL", "postgres://postgres@127.0.0.1:5432")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def database_url(pg_url: str, name: str) -> str:
    """The URL of database ``name`` on the server at ``pg_url``, which may end in options
    (``postgres://postgres@?host=/var/run/postgresql``: the server's Unix socket)."""
    server, mark, options = pg_url.partition("?")
    return f"{server.rstrip('/')}/{name}{mark}{options}"


def drop_and_create(pg_url: str, name: str) -> None:
    """An empty database ``name`` on the server at ``pg_url`` (dropped first if it exists)."""
    import psycopg

    with psycopg.connect(database_url(pg_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def wait_until_serving(process: subprocess.Popen, port: int, seconds: float = 60) -> None:
    """Wait for ``/health/`` on the local ``port``; stop ``process`` and exit when it never answers."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_process_group(process)
    raise SystemExit("gunicorn did not come up")


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process group started with ``start_new_session``; SIGKILL after 30 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def fresh_database(name: str) -> str:
    """Drop and create ``name``, migrate it, and return its URL."""
    drop_and_create(PG, name)
    url = f"{PG}/{name}"
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env_for(url), check=True)
    return url


def env_for(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL",)}
    env.update(DATABASE_URL=database_url, LOG_LEVEL="WARNING", THROTTLE_USER="100000000/minute", **extra)
    return env


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def token_for(*, username: str, role: str | None) -> str:
    """A user with ``role`` (None: superuser) and its API token; Django must be set up."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_superuser": role is None})
    if role:
        user.groups.add(Group.objects.get(name=role))
    return Token.objects.get_or_create(user=user)[0].key


@contextmanager
def gunicorn(database_url: str, *, port: int = 8765, workers: int = 4, threads: int = 1, **env: str):
    command = [
        PYTHON, "-m", "gunicorn", "mes.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--log-level", "warning", "--timeout", "120",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env_for(database_url, **env))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/health/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not come up")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]
