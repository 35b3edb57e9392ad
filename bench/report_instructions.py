"""Instructions the web process executes for one production report, counted by callgrind.

CPU time on a shared machine moves by a fifth from one minute to the next; an instruction count
does not. This counts the instructions of ``--requests`` API requests (``POST
/api/v1/operations/{id}/reports/``: 3 lots consumed, 1 serial produced, with an
``Idempotency-Key``, each in a transaction rolled back), served in-process as by
``bench/report_throughput_profile.py``, after three warm-up requests, and prints the mean per
request. The database's own work is not counted (another process). It needs valgrind.

    .venv/bin/python bench/report_instructions.py                 # 20 requests
    .venv/bin/python bench/report_instructions.py --requests 50
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _harness import database_url
from report_throughput_plant import Rollback, create_database, log, post_report, seed, setup_django


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=os.environ.get("MES_BENCH_PGURL", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="mes_bench_reports_instructions")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # the tablet file: run under callgrind
    return parser.parse_args()


def serve(args) -> None:
    """Under callgrind: warm up, then count ``--requests`` requests (instrumentation switched on
    and off around them with callgrind_control)."""
    tablet = json.loads(Path(args.serve).read_text())
    setup_django(database_url(args.pg_url, args.db), "")
    from django.db import transaction
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {tablet['token']}")

    def request(n: int) -> None:
        try:
            with transaction.atomic():
                post_report(client, tablet, n, prefix="INS")
                raise Rollback
        except Rollback:
            pass

    for n in range(3):
        request(n)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    for n in range(3, 3 + args.requests):
        request(n)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)


def main() -> None:
    args = parse_args()
    if args.serve:
        serve(args)
        return
    log(f"creating database {args.db}")
    create_database(args)
    setup_django(database_url(args.pg_url, args.db), "")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    tablet = seed(SimpleNamespace(products=1, clients=1, lots=3, duration=args.requests, warmup=10))[0]
    with tempfile.TemporaryDirectory() as folder:
        tablet_file, out = Path(folder) / "tablet.json", Path(folder) / "callgrind.out"
        tablet_file.write_text(json.dumps(tablet))
        log(f"counting {args.requests} requests under callgrind")
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
            sys.executable, __file__, "--serve", str(tablet_file), "--requests", str(args.requests),
            "--db", args.db, "--pg-url", args.pg_url,
        ]
        subprocess.run(command, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        instructions = sum(int(line.split()[1]) for line in out.read_text().splitlines() if line.startswith("totals:"))
    print(f"instructions per report request (web process): {instructions / args.requests / 1e6:.2f} million")


if __name__ == "__main__":
    main()
