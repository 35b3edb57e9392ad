"""``GET /health/``: the database and the broker answer, or 503."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "down"
        return "down"
    return "ok"


def broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    from kombu import Connection

    from mes.celery import app

    url = app.conf.broker_url
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
        else:
            with Connection(url, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001
        return "down"
    return "ok"


@require_GET
def health(request):
    database = database_status()
    broker = broker_status()
    healthy = database == "ok" and broker in ("ok", "eager")
    body = {"status": "ok" if healthy else "down", "database": database, "broker": broker}
    return JsonResponse(body, status=200 if healthy else 503)
