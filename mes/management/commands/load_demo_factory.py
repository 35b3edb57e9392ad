"""Load the demo phone assembly plant (idempotent): every app's ``demo.load()`` in app order."""

import importlib

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from mes.demo import create_demo_users


class Command(BaseCommand):
    help = "Load (or top up) the demo phone assembly plant and the demo users. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--no-users", action="store_true", help="Do not create the demo users.")

    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            if config.name not in ("inventory", "orders", "quality"):
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                summary = module.load()
            self.stdout.write(f"{config.name}: {summary}")
        if not options["no_users"]:
            self.stdout.write("Demo users (username / password / role):")
            for username, password, role in create_demo_users():
                self.stdout.write(f"  {username:<10} {password:<20} {role}")
