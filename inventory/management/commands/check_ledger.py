"""``manage.py check_ledger``: prove every balance equals the sum of its moves."""

from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import ledger_discrepancies


class Command(BaseCommand):
    help = "Check that every stock balance equals the sum of its moves (and reservations and serials agree)."

    def handle(self, *args, **options):
        problems = ledger_discrepancies()
        for problem in problems:
            self.stdout.write(
                f"{problem['check']}: item {problem['item']} at location {problem['location']} lot {problem['lot']}: "
                f"balance {problem['balance']}, ledger {problem['ledger']}"
            )
        if problems:
            raise CommandError(f"{len(problems)} discrepancies between balances and the ledger.")
        self.stdout.write(self.style.SUCCESS("The balances equal the ledger."))
