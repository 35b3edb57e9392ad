"""``manage.py load_jobshop FILE [--prefix P]``: a job-shop benchmark instance as released work orders."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mes.errors import ApplicationError
from orders.scheduling import parse_orlibrary
from orders.services.jobshop import jobshop_load


class Command(BaseCommand):
    help = (
        "Load a job-shop instance in OR-Library format (first line 'jobs machines', then per job "
        "'machine time' pairs): one always-open work center per machine, one item, routing and "
        "released work order (quantity 1, processing time as run minutes) per job."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the instance file, e.g. bench/jobshop/ft06.txt")
        parser.add_argument("--prefix", help="code prefix of the rows created (default: the file name, e.g. 'FT06-')")

    def handle(self, *args, file: str, prefix: str | None = None, **options):
        path = Path(file)
        try:
            instance = parse_orlibrary(path.read_text())
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise CommandError(f"{file} is not an OR-Library job-shop instance: {exc}") from exc
        prefix = prefix if prefix is not None else re.sub(r"[^A-Z0-9]+", "-", path.stem.upper()).strip("-") + "-"
        try:
            loaded = jobshop_load(instance=instance, prefix=prefix)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Loaded {path.name}: {len(loaded.work_centers)} work centers, {len(loaded.work_orders)} released work orders "
            f"({sum(len(route) for route in instance.operations)} operations), codes starting with {prefix!r}."
        )
