"""update_rows: several rows of a model, each with its own values, in one statement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Item
from mes.rows import update_rows
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_nothing_else_changes():
    items = [ItemFactory(code=f"ROW-{n}", name=f"Row {n}") for n in range(3)]
    untouched = ItemFactory(code="ROW-X", name="Untouched")
    for n, item in enumerate(items):
        item.name = f"Renamed {n} 'quoted'"
        item.shelf_life_days = None if n == 1 else 10 * (n + 1)
        item.description = "changed only on the object"
    with CaptureQueriesContext(connection) as queries:
        update_rows(Item, items, ["name", "shelf_life_days"])
    assert len(queries.captured_queries) == 1
    rows = dict(Item.objects.filter(code__startswith="ROW-").values_list("code", "name"))
    assert rows == {"ROW-0": "Renamed 0 'quoted'", "ROW-1": "Renamed 1 'quoted'", "ROW-2": "Renamed 2 'quoted'", "ROW-X": "Untouched"}
    assert list(Item.objects.filter(code__in=["ROW-0", "ROW-1", "ROW-2"]).order_by("code").values_list("shelf_life_days", flat=True)) == [10, None, 30]
    assert not Item.objects.filter(description="changed only on the object").exists()
    assert untouched.name == Item.objects.get(pk=untouched.pk).name


def test_no_rows_is_no_statement():
    with CaptureQueriesContext(connection) as queries:
        update_rows(Item, [], ["name"])
    assert queries.captured_queries == []


def test_one_row_is_updated_by_its_key_and_no_other_changes():
    item, other = ItemFactory(code="ONE-1", name="One"), ItemFactory(code="ONE-2", name="Other")
    item.name, item.shelf_life_days = "Renamed", 7
    with CaptureQueriesContext(connection) as queries:
        update_rows(Item, [item], ["name", "shelf_life_days"])
    assert len(queries.captured_queries) == 1
    assert Item.objects.values_list("name", "shelf_life_days").get(pk=item.pk) == ("Renamed", 7)
    assert Item.objects.values_list("name", "shelf_life_days").get(pk=other.pk) == ("Other", other.shelf_life_days)


@pytest.mark.postgres
def test_postgresql_keeps_the_plan_of_a_repeated_one_row_update():
    """The update a report repeats for its output balance: prepared once, then planned once for
    all runs (a generic plan), not again for every run as its update from arrays was."""
    from decimal import Decimal

    from django.utils import timezone

    from inventory.models import StockBalance
    from tests.factories import LocationFactory

    balance = StockBalance.objects.create(item=ItemFactory(code="PLAN-1"), location=LocationFactory(), quantity=0)
    for n in range(10):
        balance.quantity, balance.updated_at = Decimal(n), timezone.now()
        update_rows(StockBalance, [balance], ["quantity", "reserved", "updated_at"])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'UPDATE \"inventory_stockbalance\" %%'"
        )
        [(generic, custom)] = cursor.fetchall()
    # PostgreSQL plans the first five runs of a prepared statement for their values, then keeps
    # one plan when it costs no more. From arrays it planned for ten rows, never kept that plan.
    assert custom <= 5 and generic > 0
    assert StockBalance.objects.get(pk=balance.pk).quantity == Decimal(9)
