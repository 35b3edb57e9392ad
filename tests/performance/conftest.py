"""Fixtures of the performance tests: a work center with a calendar, and shop-floor records
(operations, production reports, reversals, downtime) written at chosen times.

The OEE figures read only when a report was made, its good and scrap quantities and its
operation's work center and run minutes, and when a downtime ran and why; the records are
written directly with those values so a test can put them exactly where a hand computation
needs them. The execution services that write them in production are tested in tests/orders.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from orders.models import (
    Calendar,
    DowntimeEvent,
    DowntimeReason,
    OperationStatus,
    ProductionReport,
    ScrapReason,
    Shift,
    WorkCenter,
    WorkOrderOperation,
    WorkOrderStatus,
)
from tests.factories import WorkOrderFactory

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: dt.date, hour: int, minute: int = 0, zone=BERLIN) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


class Floor:
    """Writes shop-floor records at given times."""

    def __init__(self):
        self.reasons = SimpleNamespace(
            breakdown=DowntimeReason.objects.get_or_create(code="BREAKDOWN", defaults={"name": "Machine breakdown"})[0],
            material=DowntimeReason.objects.get_or_create(code="MATERIAL", defaults={"name": "Waiting for material"})[0],
            brk=DowntimeReason.objects.get_or_create(code="BREAK", defaults={"name": "Scheduled break", "is_planned": True})[0],
            solder=ScrapReason.objects.get_or_create(code="SOLDER", defaults={"name": "Solder defect"})[0],
            cosmetic=ScrapReason.objects.get_or_create(code="COSMETIC", defaults={"name": "Cosmetic defect"})[0],
        )

    def operation(self, work_center: WorkCenter, *, run_minutes: str, quantity: str = "1000", sequence: int = 10, **order) -> WorkOrderOperation:
        work_order = WorkOrderFactory(quantity=Decimal(quantity), status=WorkOrderStatus.IN_PROGRESS, **order)
        return WorkOrderOperation.objects.create(
            work_order=work_order,
            sequence=sequence,
            name=f"Op {sequence}",
            work_center=work_center,
            run_minutes_per_unit=Decimal(run_minutes),
            status=OperationStatus.RUNNING,
        )

    def report(self, operation: WorkOrderOperation, when: dt.datetime, good, scrap=0, reason=None) -> ProductionReport:
        return ProductionReport.objects.create(
            operation=operation,
            work_order=operation.work_order,
            quantity_good=Decimal(str(good)),
            quantity_scrap=Decimal(str(scrap)),
            scrap_reason=reason if scrap else None,
            created_at=when,
        )

    def reverse(self, report: ProductionReport, when: dt.datetime) -> ProductionReport:
        return ProductionReport.objects.create(
            kind=ProductionReport.Kind.REVERSAL,
            operation=report.operation,
            work_order=report.work_order,
            quantity_good=-report.quantity_good,
            quantity_scrap=-report.quantity_scrap,
            reverses=report,
            reason="wrong count",
            created_at=when,
        )

    def downtime(self, work_center: WorkCenter, reason, start: dt.datetime, end: dt.datetime | None, *, written: dt.datetime | None = None) -> DowntimeEvent:
        written = written or (end or start)
        return DowntimeEvent.objects.create(
            work_center=work_center,
            reason=reason,
            started_at=start,
            ended_at=end,
            opened_at=written,
            closed_at=written if end else None,
        )


@pytest.fixture
def floor(db) -> Floor:
    return Floor()


@pytest.fixture
def berlin_calendar(db) -> Calendar:
    """Early shift 06:00–14:00 and late shift 14:00–22:00 every day, Berlin time."""
    calendar = Calendar.objects.create(code="BER-2S", name="Berlin two shifts", timezone="Europe/Berlin")
    for weekday in range(7):
        Shift.objects.create(calendar=calendar, weekday=weekday, start=dt.time(6), end=dt.time(14), name="early")
        Shift.objects.create(calendar=calendar, weekday=weekday, start=dt.time(14), end=dt.time(22), name="late")
    return calendar


@pytest.fixture
def press(berlin_calendar) -> WorkCenter:
    return WorkCenter.objects.create(code="PRESS", name="Press line", capacity=1, calendar=berlin_calendar)
