"""Play operators through a shift on the demo plant (see ``orders.simulation``)."""

from django.core.management.base import BaseCommand, CommandError

from mes.errors import ApplicationError
from orders.simulation import simulate_shift


class Command(BaseCommand):
    help = (
        "Run the demo plant forward by one shift: release orders, start operations, report production with lots "
        "and serials scanned from stock, complete operations and orders, record a downtime. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=4, help="Keep at least this many orders open (default 4).")
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable shift.")

    def handle(self, *args, **options):
        if options["orders"] < 1:
            raise CommandError("--orders must be at least 1.")
        try:
            log = simulate_shift(orders=options["orders"], seed=options["seed"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for line in log.lines:
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(f"Shift done: {log.reports} reports, {log.refused} refused."))
