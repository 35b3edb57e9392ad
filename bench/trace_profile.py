"""Statements and CPU of one backward trace request on PostgreSQL, without a server or clients.

Builds the phone genealogy of ``bench/trace.py`` in its own database (``--db``, default
``mes_bench_trace_profile``; ``--phones`` finished serials, 20,000 by default: the tree of a phone
is the same at any scale) and serves ``GET /api/v1/trace/backward/?serial=…`` of random phones
through the WSGI application in this process, as gunicorn would (token auth, every middleware).
Prints the statements of one request, the Python CPU per request (best of three rounds) and,
with ``--cprofile N``, the N functions where requests spend the most CPU.

    .venv/bin/python bench/trace_profile.py
    .venv/bin/python bench/trace_profile.py --reuse --cprofile 30 --show-sql
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._trace_genealogy import build, create_database, log  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phones", type=int, default=20_000)
    parser.add_argument("--pg-url", default=os.environ.get("MES_BENCH_PGURL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="mes_bench_trace_profile")
    parser.add_argument("--reuse", action="store_true", help="use the data of an earlier run")
    parser.add_argument("--samples", type=int, default=1000, help="requests per round")
    parser.add_argument("--cprofile", type=int, default=0, help="print this many functions by cumulative CPU")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one request")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def setup(args) -> None:
    os.environ.update(
        DATABASE_URL=f"{args.pg_url}/{args.db}", CELERY_BROKER_URL="", DB_CONN_MAX_AGE="600", LOG_LEVEL="WARNING",
        THROTTLE_USER="1000000/minute",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    import django

    django.setup()


def main() -> None:
    args = parse_args()
    if not args.reuse:
        create_database(args)
    setup(args)
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    call_command("migrate", verbosity=0)
    if args.reuse:
        phones = connection.cursor().execute("SELECT count(*) FROM inventory_serialnumber WHERE code LIKE 'PHN%%'").fetchone()[0]
        token = Token.objects.get(user__username="bench-quality").key
    else:
        token, phones = build(args, connection.cursor)["token"], args.phones
    app = get_wsgi_application()
    rng = random.Random(args.seed)
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def get() -> bytes:
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": "/api/v1/trace/backward/", "SCRIPT_NAME": "",
            "QUERY_STRING": f"serial=PHN{rng.randint(1, phones):08d}", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1", "HTTP_AUTHORIZATION": f"Token {token}", "HTTP_ACCEPT": "application/json",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
        }
        body = b"".join(app(environ, start_response))
        assert statuses[-1].startswith("200"), body[:500]
        return body

    for _ in range(200):
        get()
    with CaptureQueriesContext(connection) as queries:
        get()
    log(f"statements per request: {len(queries.captured_queries)}")
    if args.show_sql:
        for query in queries.captured_queries:
            print(f"  {query['time']} s  {' '.join(query['sql'].split())[:400]}")
    rounds = []
    for _ in range(3):
        started = time.process_time()
        for _ in range(args.samples):
            get()
        rounds.append((time.process_time() - started) * 1000 / args.samples)
    log(f"Python CPU per request: {min(rounds):.2f} ms (rounds of {args.samples}: {', '.join(f'{r:.2f}' for r in rounds)})")
    if args.cprofile:
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(args.samples):
            get()
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.cprofile)


if __name__ == "__main__":
    main()
