"""The statements of a production report request, on PostgreSQL: the busiest request of the floor
keeps to its budget (every statement is a round trip and the database's work on both sides)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.orders.execution_setup import *  # noqa: F403
from tests.orders.execution_setup import report_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# The token; the key claimed; the operation with its route; the items with the product's balance;
# the lots with their stock; the report; the serial; the product posted; the reservations with the
# components' stock; the components posted; the links with the report's rows; the events; the
# inspection plans; the response stored. (Plus the savepoint pair of the request's block inside the test's transaction.)
BUDGET = 14


def test_a_production_report_request_keeps_to_its_statement_budget(plant, released, make_user):
    from orders.services import operation_start

    order = released(plant.items.board, 10)
    operation = order.operations.get()
    operation_start(operation=operation, user=make_user("operator"))
    token, _ = Token.objects.get_or_create(user=make_user("operator"))
    tablet = APIClient()
    tablet.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    url = f"/api/v1/operations/{operation.pk}/reports/"

    def body(n):
        consumed = [
            {"item": plant.items.pcb.pk, "lot": "PCB-L1", "quantity": "1"},
            {"item": plant.items.chip.pk, "lot": "CHIP-L1", "quantity": "2"},
        ]
        return report_body(1, consumed=consumed, serials=[f"BUDGET-{n}"])

    assert tablet.post(url, body(1), format="json", HTTP_IDEMPOTENCY_KEY="budget-1").status_code == 201
    with CaptureQueriesContext(connection) as queries:
        response = tablet.post(url, body(2), format="json", HTTP_IDEMPOTENCY_KEY="budget-2")

    assert response.status_code == 201, response.content
    statements = [q["sql"] for q in queries.captured_queries]
    savepoints = [s for s in statements if "SAVEPOINT" in s]
    assert len(savepoints) == 2, savepoints  # the middleware's block inside the test's transaction only
    assert len(statements) - len(savepoints) <= BUDGET, "\n".join(s[:120] for s in statements)
