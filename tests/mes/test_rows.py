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
