"""``manage.py simulate_shift`` runs the demo plant forward through the same services."""

import pytest
from django.core.management import CommandError, call_command

from inventory.selectors import ledger_discrepancies
from orders.models import DowntimeEvent, OperationEvent, ProductionReport, WorkOrder

pytestmark = pytest.mark.django_db


def test_shifts_run_the_demo_plant_forward_and_keep_the_books_right():
    call_command("load_demo_factory", "--no-users")
    call_command("simulate_shift", "--orders", "3", "--seed", "1")
    first = ProductionReport.objects.count()
    assert first > 0
    assert OperationEvent.objects.filter(action="start").exists()
    assert DowntimeEvent.objects.count() == 1
    assert WorkOrder.objects.filter(status="in_progress").exists()
    call_command("simulate_shift", "--orders", "3", "--seed", "2")
    assert ProductionReport.objects.count() > first
    assert WorkOrder.objects.filter(status__in=["released", "in_progress"]).count() >= 3
    # the phones' assembly consumed boards the SMT line made, and the genealogy says so
    assert ProductionReport.objects.filter(operation__work_order__item__code="PHN-100", genealogy__isnull=False).exists()
    assert ledger_discrepancies() == []


def test_without_the_demo_plant_the_command_says_what_to_do():
    with pytest.raises(CommandError, match="load_demo_factory"):
        call_command("simulate_shift")
