"""Quality in the real shop-floor flow: a rejected receipt lot cannot be consumed by a production
report, and reports and completions open the inspections their plans ask for."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Lot, SerialNumber
from inventory.selectors import ledger_discrepancies
from inventory.services import receive
from orders.models import WorkOrderOperation
from quality import services
from quality.models import Inspection, Nonconformance
from tests.factories import PASSWORD
from tests.orders.execution_setup import *  # noqa: F403
from tests.orders.execution_setup import report_body, start

pytestmark = pytest.mark.django_db


def _post(client, operation, body):
    return client.post(f"/api/v1/operations/{operation.pk}/reports/", body, format="json")


def _complete(client, operation):
    response = client.post(f"/api/v1/operations/{operation.pk}/complete/", {}, format="json")
    assert response.status_code == 200, response.content


def _plan(item, *, trigger: str, sequence=None, name: str):
    return services.inspection_plan_create(
        data={
            "item": item,
            "name": name,
            "trigger": trigger,
            "routing_operation_sequence": sequence,
            "aql": "1.0",
            "characteristics": [{"name": "Check", "kind": "attribute"}],
        }
    )


def test_a_lot_rejected_at_receipt_cannot_be_consumed_until_it_is_dispositioned(plant, released, operator_client, make_user):
    inspector = make_user("quality", username="inspector")
    plan = _plan(plant.items.battery, trigger="receipt", name="Incoming batteries")
    receive(item=plant.items.battery, location=plant.locations.stores, quantity=Decimal("10"), lot_code="BAT-L2", user=plant.clerk)
    inspection = Inspection.objects.get(plan=plan, lot__code="BAT-L2")
    check = plan.characteristics.get()
    services.measurements_record(
        inspection=inspection, measurements=[{"characteristic": check.pk, "sample_index": 1, "passed": False}], user=inspector
    )
    assert Lot.objects.get(code="BAT-L2").status == "on_hold"

    order = released(plant.items.phone, 1)
    assembly = order.operations.get(sequence=10)
    start(operator_client, assembly)
    body = report_body(1, consumed=[{"item": plant.items.battery.pk, "lot": "BAT-L2", "quantity": "1"}], serials=["PHN-1"])

    refused = _post(operator_client, assembly, body)

    assert refused.status_code == 409, refused.content
    assert refused["Content-Type"].startswith("application/problem+json")
    assert refused.json()["code"] == "lot_on_hold"
    assert not SerialNumber.objects.filter(code="PHN-1").exists()

    services.nonconformance_disposition(ncr=Nonconformance.objects.get(), disposition="use_as_is", user=inspector, signature_password=PASSWORD)
    accepted = _post(operator_client, assembly, body)
    assert accepted.status_code == 201, accepted.content
    assert ledger_discrepancies() == []


def test_reports_and_the_completion_open_operation_and_final_inspections(plant, released, operator_client):
    test_plan = _plan(plant.items.phone, trigger="operation", sequence=20, name="Functional test")
    final_plan = _plan(plant.items.phone, trigger="final", name="Final audit")
    order = released(plant.items.phone, 1)
    operations = {op.sequence: op for op in order.operations.all()}

    start(operator_client, operations[10])
    assert _post(operator_client, operations[10], report_body(1, serials=["PHN-1"])).status_code == 201
    assert not Inspection.objects.exists()
    _complete(operator_client, operations[10])

    start(operator_client, operations[20])
    assert _post(operator_client, operations[20], report_body(1, serials=["PHN-1"])).status_code == 201
    at_test = Inspection.objects.get(plan=test_plan)
    assert (at_test.source, at_test.operation_id, at_test.work_order_id) == ("operation", operations[20].pk, order.pk)
    assert at_test.lot_size == 1
    _complete(operator_client, operations[20])

    start(operator_client, operations[30])
    assert _post(operator_client, operations[30], report_body(1, serials=["PHN-1"])).status_code == 201
    _complete(operator_client, operations[30])

    assert WorkOrderOperation.objects.get(pk=operations[30].pk).status == "done"
    final = Inspection.objects.get(plan=final_plan)
    assert (final.source, final.work_order_id, final.serial.code, final.lot_size) == ("final", order.pk, "PHN-1", 1)
