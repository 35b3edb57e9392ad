"""Issuing several lines at once: the same moves, balances, serials, lots and events as issuing
them one by one, in a fixed number of statements, and nothing at all when one line is refused."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import errors, services
from inventory.models import Lot, SerialNumber, StockBalance, StockMove
from inventory.selectors import ledger_discrepancies
from inventory.services import IssueLine
from mes.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(clerk, stores, screws, chips, boards):
    services.receive(item=screws, location=stores, quantity=50, user=clerk)
    services.receive(item=chips, location=stores, quantity=10, lot_code="C1", user=clerk)
    services.receive(item=chips, location=stores, quantity=5, lot_code="C2", user=clerk)
    services.receive(item=boards, location=stores, quantity=2, serial_codes=["B1", "B2"], user=clerk)


def _lines(screws, chips, boards, stores, chip_quantity=4):
    return [
        IssueLine(item=screws, location=stores, quantity=Decimal(8)),
        IssueLine(item=chips, location=stores, quantity=Decimal(chip_quantity), lot="C1"),
        IssueLine(item=chips, location=stores, quantity=Decimal(5), lot=Lot.objects.get(code="C2")),
        IssueLine(item=boards, location=stores, quantity=Decimal(1), serials=["B2"]),
    ]


def test_lines_of_several_items_are_issued_together(stocked, clerk, stores, screws, chips, boards):
    events = Event.objects.count()
    lines = _lines(screws, chips, boards, stores)
    with CaptureQueriesContext(connection) as queries:
        moves = services.issue_lines(lines=lines, document_type="test", document_id="1", user=clerk)
    assert [[(m.item_id, m.quantity, m.lot_id and m.lot.code, m.serial_id and m.serial.code) for m in line] for line in moves] == [
        [(screws.pk, Decimal(8), None, None)],
        [(chips.pk, Decimal(4), "C1", None)],
        [(chips.pk, Decimal(5), "C2", None)],
        [(boards.pk, Decimal(1), None, "B2")],
    ]
    assert all(m.pk for line in moves for m in line)
    assert StockBalance.objects.get(item=screws).quantity == Decimal(42)
    assert StockBalance.objects.get(lot__code="C1").quantity == Decimal(6)
    assert StockBalance.objects.get(lot__code="C2").quantity == 0
    assert Lot.objects.get(code="C2").status == "consumed"
    assert Lot.objects.get(code="C1").status == "available"
    assert SerialNumber.objects.get(code="B2").status == "consumed"
    assert list(Event.objects.order_by("pk").values_list("type", flat=True))[events:] == ["stock.issued"] * 4
    assert ledger_discrepancies() == []
    # one query per kind of row for all four lines; the emptied lot C2 costs three more
    assert len(queries.captured_queries) <= 17


def test_one_refused_line_issues_nothing(stocked, clerk, stores, screws, chips, boards):
    moves = StockMove.objects.count()
    with pytest.raises(errors.InsufficientStock):
        services.issue_lines(
            lines=_lines(screws, chips, boards, stores, chip_quantity=11), user=clerk
        )
    assert StockMove.objects.count() == moves
    assert StockBalance.objects.get(item=screws).quantity == Decimal(50)
    assert SerialNumber.objects.get(code="B2").status == "available"


def test_a_demand_s_reservations_are_consumed_oldest_first(stocked, clerk, stores, screws):
    first = services.reserve(item=screws, quantity=3, demand_type="work_order", demand_id=7, user=clerk)
    second = services.reserve(item=screws, quantity=10, demand_type="work_order", demand_id=7, user=clerk)
    other = services.reserve(item=screws, quantity=30, demand_type="work_order", demand_id=8, user=clerk)
    lines = [IssueLine(item=screws, location=stores, quantity=Decimal(q)) for q in (2, 4, 1)]
    moves = services.issue_lines(lines=lines, demand=("work_order", 7), user=clerk)
    assert [line[0].reservation_id for line in moves] == [first.pk, first.pk, second.pk]
    first.refresh_from_db(), second.refresh_from_db(), other.refresh_from_db()
    # as one by one: the second line takes what is left of the first reservation, 1 of its 4
    assert (first.quantity_consumed, first.status) == (Decimal(3), "closed")
    assert (second.quantity_consumed, other.quantity_consumed) == (Decimal(1), 0)
    assert ledger_discrepancies() == []


def test_an_issue_reads_and_locks_the_balances_it_posts_on_with_its_stock(stocked, clerk, stores, chips):
    lines = [IssueLine(item=chips, location=stores, quantity=Decimal(4), lot="C1")]
    with CaptureQueriesContext(connection) as queries:
        services.issue_lines(lines=lines, document_type="test", document_id="2", user=clerk)
    balance_reads = [q["sql"] for q in queries.captured_queries if "FROM inventory_stockbalance b" in q["sql"]]
    assert len(balance_reads) == 1
    if connection.vendor == "postgresql":
        assert 'FOR UPDATE OF "b"' in balance_reads[0]
    assert StockBalance.objects.get(lot__code="C1").quantity == Decimal(6)
    assert ledger_discrepancies() == []


def test_items_locked_with_balances_give_the_balances_that_exist_and_production_creates_the_rest(clerk, stores, line, screws, boards):
    services.receive(item=screws, location=stores, quantity=5, user=clerk)
    keys = [(screws.pk, stores.pk, None), (boards.pk, line.pk, None)]

    with CaptureQueriesContext(connection) as queries:
        items, balances = services.lock_items_with_balances([screws, boards.pk], balance_keys=keys)

    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert set(items) == {screws.pk, boards.pk} and items[boards.pk].unit.code == boards.unit_id
    assert list(balances) == [(screws.pk, stores.pk, None)] and balances[keys[0]].quantity == Decimal(5)

    # The balance that did not exist is created by the production that posts on it
    moves = services.produce(
        item=boards, location=line, quantity=1, serial_codes=["B-NEW"], user=clerk, locked_items=items, locked_balances=balances
    )
    assert [m.to_location_id for m in moves] == [line.pk]
    assert StockBalance.objects.get(item=boards, location=line, lot=None).quantity == Decimal(1)
    assert ledger_discrepancies() == []
