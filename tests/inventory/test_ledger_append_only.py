"""On PostgreSQL the database itself keeps the stock ledger and the genealogy append-only: a trigger
refuses UPDATE and DELETE of their rows, whoever sends them, while every service (reversals
included) still works and a test database can still be flushed (TRUNCATE)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from inventory import services
from inventory.models import GenealogyLink, Lot, StockMove
from inventory.selectors import ledger_discrepancies, on_hand
from tests.factories import PASSWORD

pytestmark = pytest.mark.postgres


@pytest.fixture
def produced(chips, boards, stores, line, clerk):
    """Chips received, a reel issued to work order 9 and turned into two boards: moves and links."""
    services.receive(item=chips, location=stores, quantity=10, lot_code="C1", user=clerk)
    services.issue(item=chips, location=stores, quantity=2, lot="C1", work_order_id=9, user=clerk)
    services.produce(
        item=boards,
        location=line,
        quantity=2,
        serial_codes=["B1", "B2"],
        work_order_id=9,
        operation_id=90,
        consumed=[(Lot.objects.get(code="C1"), 2)],
        user=clerk,
    )
    return StockMove.objects.order_by("pk").first(), GenealogyLink.objects.order_by("pk").first()


def refused(sql: str, params: list) -> str:
    with pytest.raises(DatabaseError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(error.value)


@pytest.mark.django_db
@pytest.mark.parametrize("model", [StockMove, GenealogyLink], ids=["stock_move", "genealogy_link"])
def test_raw_sql_cannot_update_or_delete_a_ledger_row(produced, model):
    row = produced[0] if model is StockMove else produced[1]
    table = model._meta.db_table

    update = refused(f'UPDATE "{table}" SET quantity = quantity + 1 WHERE id = %s', [row.pk])
    delete = refused(f'DELETE FROM "{table}" WHERE id = %s', [row.pk])

    assert "UPDATE on " + table in update and "append-only" in update
    assert "DELETE on " + table in delete
    assert model.objects.get(pk=row.pk).quantity == row.quantity
    assert ledger_discrepancies() == []


@pytest.mark.django_db
def test_the_orm_cannot_change_a_move_either(produced):
    move, _link = produced
    move.reason = "edited afterwards"
    with pytest.raises(DatabaseError), transaction.atomic():
        move.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        StockMove.objects.filter(pk=move.pk).delete()
    assert StockMove.objects.get(pk=move.pk).reason == ""


@pytest.mark.django_db
def test_every_service_still_writes_the_ledger(produced, chips, stores, line, clerk):
    receipt, _link = produced
    (transfer,) = services.transfer(item=chips, from_location=stores, to_location=line, quantity=3, lot="C1", user=clerk)
    services.reverse_move(move=transfer, reason="wrong shelf", user=clerk)
    services.adjust(item=chips, location=stores, quantity=-1, lot="C1", reason="count", user=clerk)
    services.scrap(item=chips, location=stores, quantity=1, lot="C1", reason="bent pins", user=clerk)
    hold = services.place_hold(lot=Lot.objects.get(code="C1"), reason="suspect", user=clerk)
    services.release_hold(hold=hold, reason="fine", user=clerk, signature_password=PASSWORD)

    assert StockMove.objects.filter(reverses=transfer).exists()
    assert on_hand(item=chips, location=stores) == 10 - 2 - 1 - 1
    assert StockMove.objects.get(pk=receipt.pk).quantity == 10
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_a_flush_still_empties_the_ledger(produced):
    call_command("flush", interactive=False, verbosity=0)

    assert not StockMove.objects.exists() and not GenealogyLink.objects.exists()
