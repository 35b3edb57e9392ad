"""Concurrent writers on PostgreSQL: row locks make the second one see the first one's work."""

from __future__ import annotations

import pytest

from inventory import services
from inventory.errors import InsufficientStock, SerialNotAvailable
from inventory.models import Lot, Reservation, SerialNumber, StockBalance, StockMove
from inventory.selectors import ledger_discrepancies
from tests.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def outcomes(results, refusal):
    ok = [r for r in results if isinstance(r, list | Reservation)]
    refused = [r for r in results if isinstance(r, refusal)]
    assert len(ok) + len(refused) == len(results), results
    return ok, refused


def test_two_issues_of_the_last_quantity_of_a_lot_one_wins(chips, line, clerk):
    services.receive(item=chips, location=line, quantity=5, lot_code="L1", user=clerk)
    lot = Lot.objects.get(code="L1")

    def issue():
        return services.issue(item=chips, location=line, quantity=5, lot=lot, work_order_id=1, user=clerk)

    ok, refused = outcomes(race(issue, issue, barrier_timeout=10, join_timeout=30), InsufficientStock)
    assert (len(ok), len(refused)) == (1, 1)
    assert StockBalance.objects.get(lot=lot).quantity == 0
    assert StockMove.objects.filter(kind="issue").count() == 1
    assert Lot.objects.get(pk=lot.pk).status == "consumed"
    assert ledger_discrepancies() == []


def test_two_issues_of_one_serial_one_wins(boards, line, clerk):
    services.receive(item=boards, location=line, quantity=1, serial_codes=["B1"], user=clerk)

    def issue():
        return services.issue(item=boards, location=line, quantity=1, serials=["B1"], user=clerk)

    ok, refused = outcomes(race(issue, issue, barrier_timeout=10, join_timeout=30), SerialNotAvailable)
    assert (len(ok), len(refused)) == (1, 1)
    assert SerialNumber.objects.get(code="B1").status == "consumed"
    assert StockMove.objects.filter(kind="issue").count() == 1
    assert ledger_discrepancies() == []


def test_reserving_and_issuing_the_same_stock_never_oversell(screws, line, clerk):
    services.receive(item=screws, location=line, quantity=10, user=clerk)

    def reserve():
        return services.reserve(item=screws, quantity=7, demand_type="work_order", demand_id=1, user=clerk)

    def issue():
        return services.issue(item=screws, location=line, quantity=7, user=clerk)

    ok, refused = outcomes(race(reserve, issue, barrier_timeout=10, join_timeout=30), InsufficientStock)
    assert (len(ok), len(refused)) == (1, 1)
    reserved = sum(r.remaining for r in Reservation.objects.filter(status="open"))
    on_hand = StockBalance.objects.get(item=screws).quantity
    assert reserved <= on_hand
    assert ledger_discrepancies() == []


def test_many_small_issues_at_once_lose_no_update(screws, line, clerk):
    services.receive(item=screws, location=line, quantity=6, user=clerk)

    def issue():
        return services.issue(item=screws, location=line, quantity=1, user=clerk)

    results = race(*[issue] * 8, barrier_timeout=10, join_timeout=30)
    ok, refused = outcomes(results, InsufficientStock)
    assert (len(ok), len(refused)) == (6, 2)
    assert StockBalance.objects.get(item=screws).quantity == 0
    assert ledger_discrepancies() == []


def test_two_api_requests_issuing_the_last_of_a_lot_one_is_refused(chips, line, clerk, api_client_for):
    services.receive(item=chips, location=line, quantity=3, lot_code="L7", user=clerk)
    clients = [api_client_for("operator"), api_client_for("operator")]
    body = {"item": chips.pk, "location": line.pk, "quantity": "3", "lot_code": "L7", "work_order_id": 9}

    def post(client):
        return lambda: client.post("/api/v1/stock/issues/", body, format="json")

    responses = race(*(post(client) for client in clients), barrier_timeout=10, join_timeout=30)
    assert sorted(r.status_code for r in responses) == [201, 409]
    refused = next(r for r in responses if r.status_code == 409)
    assert refused.json()["code"] == "insufficient_stock"
    assert StockBalance.objects.get(lot__code="L7").quantity == 0
    assert StockMove.objects.filter(kind="issue").count() == 1
    assert ledger_discrepancies() == []
