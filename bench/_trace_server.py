"""The trace benchmark's server: gunicorn on 127.0.0.1 against the bench database, and the CPU its
workers and their PostgreSQL backends use."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench._harness import stop_process_group, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent


def start_server(args, database_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_USER": "1000000/minute",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "mes.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    wait_until_serving(server, args.port)
    return server


stop_server = stop_process_group


def prioritize(args) -> None:
    """Give this database's PostgreSQL backends the bench's CPU priority (see ``--priority``)."""
    if not args.priority:
        return
    import psycopg

    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
        pids = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [args.db])]
    for pid in pids:
        try:
            os.setpriority(os.PRIO_PROCESS, pid, -args.priority)
        except (PermissionError, ProcessLookupError):
            pass


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_pids(args, server_pid: int) -> tuple[list[int], list[int]]:
    """gunicorn's worker processes and the PostgreSQL backends serving this database."""
    import psycopg

    workers = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == server_pid:
                        workers.append(int(entry))
            except OSError:
                continue
    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
        backends = [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [args.db])]
    return workers, backends
