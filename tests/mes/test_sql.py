"""mes.sql: statements written as SQL, read into model instances and written in one statement."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Item, StockBalance, UnitOfMeasure
from mes import sql
from tests.factories import ItemFactory, LocationFactory

pytestmark = pytest.mark.django_db


def test_fetch_models_builds_instances_with_converted_values_and_attaches_joined_ones():
    item = ItemFactory(code="SQL-1", shelf_life_days=None)
    location = LocationFactory()
    StockBalance.objects.create(item=item, location=location, quantity=Decimal("2.500"))
    query = (
        f"SELECT {sql.select_columns(StockBalance, 'b')}, {sql.select_columns(Item, 'i')}, {sql.select_columns(UnitOfMeasure, 'u')} "
        'FROM inventory_stockbalance b JOIN inventory_item i ON i.id = b.item_id JOIN inventory_unitofmeasure u ON u.code = i.unit_id '
        f"WHERE b.item_id IN ({sql.in_list([item.pk])}) {sql.for_update('b')}"
    )
    with CaptureQueriesContext(connection) as queries:
        (balance,) = sql.fetch_models(
            query,
            [item.pk],
            [StockBalance, sql.Part(Item, parent="stockbalance", relation="item"), sql.Part(UnitOfMeasure, parent="item", relation="unit")],
        )
        assert balance.item.code == "SQL-1"
        assert balance.item.unit.code == item.unit_id
    assert len(queries.captured_queries) == 1
    assert balance.quantity == Decimal("2.500") and isinstance(balance.quantity, Decimal)
    assert isinstance(balance.updated_at, dt.datetime) and balance.updated_at.tzinfo is not None
    assert balance.item.shelf_life_days is None and balance.item.is_active is True
    assert balance._state.adding is False


def test_insert_rows_writes_every_row_in_one_statement_and_sets_their_keys():
    item = ItemFactory()
    locations = [LocationFactory() for _ in range(3)]
    rows = [StockBalance(item=item, location=loc, quantity=Decimal(n)) for n, loc in enumerate(locations)]
    with CaptureQueriesContext(connection) as queries:
        sql.insert_rows(StockBalance, rows)
    assert len(queries.captured_queries) == 1
    assert all(row.pk for row in rows)
    assert {b.pk: b.quantity for b in StockBalance.objects.filter(item=item)} == {row.pk: row.quantity for row in rows}
    assert all(b.updated_at is not None for b in StockBalance.objects.filter(item=item))


def test_some_fields_named_in_any_order_come_back_in_their_own_fields():
    item = ItemFactory()
    location = LocationFactory()
    balance = StockBalance.objects.create(item=item, location=location, quantity=Decimal("4.000"), reserved=Decimal("1.000"))
    fields = ["reserved", "location", "quantity", "id", "item"]
    (row,) = sql.fetch_models(
        f"SELECT {sql.select_columns(StockBalance, 'b', fields)} FROM inventory_stockbalance b WHERE b.id = %s",
        [balance.pk],
        [sql.Part(StockBalance, fields=fields)],
    )
    assert (row.pk, row.item_id, row.location_id, row.quantity, row.reserved) == (balance.pk, item.pk, location.pk, Decimal("4.000"), Decimal("1.000"))


def test_statements_run_on_the_connections_kept_cursor_unless_they_are_being_captured():
    with sql.cursor() as first:
        pass
    with sql.cursor() as second:
        pass
    assert first is second
    assert sql.fetch("SELECT 1") == [(1,)]
    with CaptureQueriesContext(connection) as queries:
        with sql.cursor() as captured:
            assert captured is not first
        assert sql.fetch("SELECT 2") == [(2,)]
    assert [q["sql"] for q in queries.captured_queries] == ["SELECT 2"]


def test_writes_that_read_nothing_back_go_together_in_one_statement_on_postgresql():
    from mes.rows import update_statements

    item = ItemFactory(name="Before")
    locations = [LocationFactory() for _ in range(2)]
    new = [StockBalance(item=item, location=loc, quantity=Decimal("3.000")) for loc in locations]
    item.name = "After"
    with CaptureQueriesContext(connection) as queries:
        sql.write_together(sql.insert_statement(StockBalance, new), update_statements(Item, [item], ["name"]), [])
    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert Item.objects.get(pk=item.pk).name == "After"
    assert sorted(StockBalance.objects.filter(item=item).values_list("location_id", "quantity")) == sorted(
        (loc.pk, Decimal("3.000")) for loc in locations
    )
    with CaptureQueriesContext(connection) as queries:
        sql.write_together([], [])
    assert queries.captured_queries == []


def test_fetch_rows_gives_every_part_and_none_for_a_row_an_outer_join_did_not_find():
    with_stock, without = ItemFactory(), ItemFactory()
    location = LocationFactory()
    StockBalance.objects.create(item=with_stock, location=location, quantity=Decimal("1.000"))
    rows = sql.fetch_rows(
        f"SELECT {sql.select_columns(Item, 'i')}, {sql.select_columns(StockBalance, 'b')} FROM inventory_item i "
        f"LEFT JOIN inventory_stockbalance b ON b.item_id = i.id WHERE i.id IN ({sql.in_list([with_stock.pk, without.pk])}) ORDER BY i.id",
        [with_stock.pk, without.pk],
        [Item, sql.Part(StockBalance, name="balance")],
    )
    assert [(item.pk, balance and balance.location_id) for item, balance in rows] == [(with_stock.pk, location.pk), (without.pk, None)]


def test_fetch_rows_gives_plain_columns_as_tuples_and_may_share_a_repeated_part():
    item = ItemFactory()
    first, second = LocationFactory(), LocationFactory()
    for location in (first, second):
        StockBalance.objects.create(item=item, location=location, quantity=Decimal("1.000"))
    query = (
        f"SELECT {sql.select_columns(Item, 'i')}, {sql.select_columns(UnitOfMeasure, 'u')}, 7, 'seven', "
        f"{sql.select_columns(StockBalance, 'b')} FROM inventory_item i JOIN inventory_unitofmeasure u ON u.code = i.unit_id "
        "JOIN inventory_stockbalance b ON b.item_id = i.id WHERE i.id = %s ORDER BY b.id"
    )
    parts = [Item, sql.Part(UnitOfMeasure, parent="item", relation="unit"), sql.Values(2), sql.Part(StockBalance, name="balance")]

    built_apart = sql.fetch_rows(query, [item.pk], parts)
    shared = sql.fetch_rows(query, [item.pk], parts, repeated_shared=True)

    for rows in (built_apart, shared):
        assert [(row[2], row[3].location_id) for row in rows] == [((7, "seven"), first.pk), ((7, "seven"), second.pk)]
        assert all(row[0].unit is row[1] for row in rows)
    assert built_apart[0][0] is not built_apart[1][0]
    assert shared[0][0] is shared[1][0] and shared[0][1] is shared[1][1]
    assert shared[0][3] is not shared[1][3]


def test_reads_fetched_together_give_what_each_gives_alone_in_one_statement_on_postgresql():
    item = ItemFactory(code="TOGETHER")
    location = LocationFactory()
    StockBalance.objects.create(item=item, location=location, quantity=Decimal("3.500"), reserved=Decimal("1.000"))
    items = (
        f"SELECT {sql.select_columns(Item, 'i')}, {sql.select_columns(UnitOfMeasure, 'u')} FROM inventory_item i "
        "JOIN inventory_unitofmeasure u ON u.code = i.unit_id WHERE i.id = %s",
        [item.pk],
        [Item, sql.Part(UnitOfMeasure, parent="item", relation="unit")],
    )
    balances = (
        f"SELECT {sql.select_columns(StockBalance, 'b', ['id', 'item', 'quantity'])} FROM inventory_stockbalance b "
        f"WHERE b.item_id = %s ORDER BY b.id {sql.for_update('b')}",
        [item.pk],
        [sql.Part(StockBalance, fields=["id", "item", "quantity"])],
    )
    nothing = (f"SELECT {sql.select_columns(Item, 'i')} FROM inventory_item i WHERE i.id = %s", [-1], [Item])

    with CaptureQueriesContext(connection) as queries:
        found_items, found_balances, found_nothing = sql.fetch_together(items, balances, nothing)

    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 3)
    ((read_item, unit),) = found_items
    assert read_item.code == "TOGETHER" and read_item.unit is unit and unit.code == item.unit_id
    ((balance,),) = found_balances
    assert balance.quantity == Decimal("3.500") and isinstance(balance.quantity, Decimal) and balance.item_id == item.pk
    assert found_nothing == []


@pytest.mark.parametrize(
    "cast, values",
    [
        ("text", ["plain", "", "NULL", 'say "hi"', "back\\slash", "{braces}, commas", "  spaces  ", "Grüße 工厂", None]),
        ("integer", [1, -2, None, 2_147_483_647]),
        ("numeric", [Decimal("1.500"), Decimal("-0.001"), Decimal("1E+3"), None]),
        ("boolean", [True, False, None]),
        ("date", [dt.date(2026, 12, 6), dt.date(1, 1, 1), None]),
        ("timestamptz", [dt.datetime(2026, 12, 6, 21, 0, 0, 5, tzinfo=dt.UTC), dt.datetime(2026, 7, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))]),
    ],
)
def test_an_array_parameter_written_as_text_reads_back_the_same_values(cast, values):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL arrays")
    param = sql.array_param(values)
    assert isinstance(param, str)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{cast}[]", [param])
        assert cursor.fetchone()[0] == values


def test_json_values_in_an_array_parameter_read_back_the_same():
    import json

    from psycopg.types.json import Jsonb

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL arrays")
    payloads = [{"a": [1, 'say "hi"', "back\\slash"], "b": None}, {"lots": [{"id": 1, "code": "L-{1}"}]}, []]
    param = sql.array_param([Jsonb(p, dumps=json.dumps) for p in payloads] + [None])
    assert isinstance(param, str)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::jsonb[]", [param])
        loaded = cursor.fetchone()[0]
    assert [json.loads(v) if isinstance(v, str) else v for v in loaded] == [*payloads, None]


def test_an_array_of_values_of_other_types_stays_a_list_for_the_driver():
    values = [{"payload": 1}, None]
    assert sql.array_param(values) is values


def _built(obj):
    """What building made of a row; a default of "now" compared by its type (both read the clock)."""
    state = obj._state
    values = {k: (type(v) if isinstance(v, dt.datetime) else v) for k, v in obj.__dict__.items() if k != "_state"}
    return values, state.adding, state.db, dict(state.fields_cache)


def test_a_new_row_is_built_as_model_init_builds_it():
    from inventory.models import GenealogyLink, Lot, SerialNumber, StockMove
    from mes.models import Event
    from orders.models import ProductionReport, ReportConsumption, ReportOutput

    item = ItemFactory()
    location = LocationFactory()
    lot = Lot.objects.create(item=item, code="NEW-ROW-1")
    cases = [
        (StockMove, {"item": item, "lot": lot, "serial": None, "from_location": None, "to_location_id": location.pk, "quantity": Decimal("2.000"), "kind": "receipt", "document_id": "7", "reason": ""}),
        (StockBalance, {"item_id": item.pk, "location_id": location.pk, "lot_id": None}),
        (SerialNumber, {"item": item, "code": "SN-1", "lot": None, "current_location_id": location.pk, "status": "available"}),
        (GenealogyLink, {"consumed_lot": lot, "produced_serial": None, "quantity": Decimal("1.000")}),
        (Event, {"type": "t", "aggregate_type": "item", "aggregate_id": "1", "payload": {"a": 1}, "actor": None, "request_id": ""}),
        (ProductionReport, {"quantity_good": Decimal("1"), "quantity_scrap": Decimal("0"), "labor_minutes": None, "recorded_at": None}),
        (ReportConsumption, {"item": item, "lot": lot, "serial": None, "location_id": location.pk, "quantity": Decimal("1"), "backflushed": False}),
        (ReportOutput, {"action": "produced", "item": item, "quantity": Decimal("1"), "location_id": location.pk, "lot": None, "serial": None}),
        (ReportOutput, {"action": "produced", "item": item, "quantity": Decimal("1"), "location_id": location.pk, "lot": lot, "serial": None, "move": None}),
    ]
    for model, values in cases:
        assert _built(sql.new_row(model, **values)) == _built(model(**values)), model.__name__
    # a one-to-one: the related row caches this one as Model.__init__ leaves it
    move_a, move_b = StockMove(item=item, quantity=Decimal(1), kind="receipt"), StockMove(item=item, quantity=Decimal(1), kind="receipt")
    move_a.pk = move_b.pk = 41
    built, plain = sql.new_row(ReportOutput, action="produced", item=item, quantity=Decimal(1), move=move_a), ReportOutput(action="produced", item=item, quantity=Decimal(1), move=move_b)
    assert built.move_id == plain.move_id == 41
    assert move_a._state.fields_cache["report_output"] is built and move_b._state.fields_cache["report_output"] is plain


def test_a_new_row_refuses_what_is_not_a_field():
    with pytest.raises(TypeError, match="colour"):
        sql.new_row(StockBalance, colour="red")


def test_writes_sent_with_an_insert_of_no_rows_are_still_written():
    from inventory.models import Location

    assert sql.insert_rows(StockBalance, [], also=[sql.insert_statement(Location, [sql.new_row(Location, code="ALSO-1", name="a")])]) == []
    assert Location.objects.filter(code="ALSO-1").exists()
