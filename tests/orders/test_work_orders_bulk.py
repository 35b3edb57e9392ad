"""Work orders upserted in one batch give what the per-record service gives record after record:
the same rows, numbers, audit trail, status events, and the same refusal."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import transaction
from simple_history.models import HistoricalRecords

from mes.bulk import BulkRejected, bulk_upsert_each
from orders import services
from orders.models import WorkOrder, WorkOrderEvent
from tests.factories import WorkOrderFactory

pytestmark = pytest.mark.django_db

REASON = "ERP sync"


def _number(number: str, pk: int) -> str:
    """A number with the row's own id written as ``<id>``, placeholders as ``new-…``, so runs
    that gave the rows other ids compare equal."""
    if number.startswith("new-"):
        return "new-…"
    return re.sub(rf"^WO-{pk:06d}", "WO-<id>", number)


def _state():
    orders = {wo.pk: wo for wo in WorkOrder.objects.all()}
    key = {pk: wo.external_id or wo.number for pk, wo in orders.items()}
    rows = sorted(
        (key[pk], _number(wo.number, pk), wo.item_id, wo.quantity, wo.due_at, wo.priority, wo.status, wo.bom_id, wo.routing_id, wo.notes)
        for pk, wo in orders.items()
    )
    history: dict[str, list] = {}
    for h in WorkOrder.history.order_by("history_id"):
        history.setdefault(key.get(h.id, h.id), []).append(
            (h.history_type, _number(h.number, h.id), h.quantity, h.priority, h.status, h.history_user_id, h.history_change_reason)
        )
    events: dict[str, list] = {}
    for e in WorkOrderEvent.objects.order_by("id"):
        events.setdefault(key[e.work_order_id], []).append((e.from_status, e.to_status, e.reason, e.user_id))
    return rows, history, events


def _outcome(apply, records, user):
    """Results, errors and the state after ``apply``; everything rolled back afterwards. The
    request context gives the per-record history its user and reason, as the middleware does."""
    HistoricalRecords.context.request = SimpleNamespace(user=user, headers={"Change-Reason": REASON})
    point = transaction.savepoint()
    try:
        results = [(r["index"], r["external_id"], r["created"]) for r in apply([dict(r) for r in records])]
        errors = None
    except BulkRejected as exc:
        results, errors = None, [e.as_dict() for e in exc.record_errors]
    state = _state()
    transaction.savepoint_rollback(point)
    del HistoricalRecords.context.request
    return results, errors, state


def per_record(user):
    def apply(records):
        external_ids = [r.pop("external_id") for r in records]
        return bulk_upsert_each(
            external_ids=external_ids, records=records, upsert=services.work_order_upsert_by_external_id, user=user
        )

    return apply


def batch(user):
    return lambda records: services.work_orders_bulk_upsert(records=records, user=user, reason=REASON)


def assert_same(records, user):
    expected = _outcome(per_record(user), records, user)
    got = _outcome(batch(user), records, user)
    assert got == expected
    return got


@pytest.fixture
def erp(make_user):
    return make_user("integration", username="erp-sync")


def order(external_id, item, quantity="5", **extra):
    return {"external_id": external_id, "item": item, "quantity": Decimal(quantity), **extra}


def test_new_orders_get_the_same_numbers_trail_and_events(phone, erp):
    item = phone.items.phone
    due = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    records = [
        order("SAP-1", item, due_at=due, priority=70),
        order("SAP-2", item, number="GIVEN-2", bom=phone.bom, routing=phone.routing),
        order("SAP-3", item, "7", notes="rush"),
    ]
    results, errors, (rows, history, events) = assert_same(records, erp)
    assert errors is None and [created for _, _, created in results] == [True, True, True]
    numbers = {row[0]: row[1] for row in rows}
    assert numbers == {"SAP-1": "WO-<id>", "SAP-2": "GIVEN-2", "SAP-3": "WO-<id>"}
    # a generated number is given once the row has its id: created, then numbered
    assert [(t, n) for t, n, *_ in history["SAP-1"]] == [("+", "new-…"), ("~", "WO-<id>")]
    assert [(t, n) for t, n, *_ in history["SAP-2"]] == [("+", "GIVEN-2")]
    assert {(user, reason) for *_, user, reason in history["SAP-1"]} == {(erp.pk, REASON)}
    assert events["SAP-3"] == [("", "draft", "created", erp.pk)]


def test_updates_unchanged_released_orders_and_freed_numbers_match(phone, erp):
    item = phone.items.phone
    draft = WorkOrderFactory(item=item, external_id="SAP-D", number="OLD-D")
    released = WorkOrderFactory(item=item, external_id="SAP-R", number="REL-1", status="released", quantity=Decimal("5"))
    records = [
        order("SAP-D", item, "9", number="NEW-D"),  # frees OLD-D …
        order("SAP-N", item, number="OLD-D"),  # … which a new order may take
        order("SAP-R", item, "5"),  # released, sent again as it is: left alone
        order("SAP-D2", item),
    ]
    results, errors, (rows, history, _) = assert_same(records, erp)
    assert errors is None
    assert [created for _, _, created in results] == [False, True, False, True]
    assert {row[0]: row[1] for row in rows}["SAP-N"] == "OLD-D"
    assert [t for t, *_ in history["SAP-D"]] == ["+", "~"]
    assert [t for t, *_ in history["SAP-R"]] == ["+"]
    assert draft.pk and released.pk


def test_a_released_order_cannot_be_changed(phone, erp):
    item = phone.items.phone
    WorkOrderFactory(item=item, external_id="SAP-R", number="REL-1", status="released")
    records = [order("SAP-A", item), order("SAP-R", item, "8"), order("SAP-B", item, "2.5")]
    _, errors, (rows, _, _) = assert_same(records, erp)
    assert [(e["index"], e["field"], e["code"]) for e in errors] == [(1, "non_field_errors", "work_order_not_draft")]
    assert "REL-1 is released" in errors[0]["message"]
    assert [row[0] for row in rows] == ["SAP-R"]  # nothing applied


@pytest.mark.parametrize(
    "bad, expected",
    [
        ({"quantity": Decimal("2.5")}, [("quantity", "fractional_quantity")]),
        ({"priority": 500}, [("priority", "invalid")]),
        ({"priority": 500, "number": "TAKEN"}, [("priority", "invalid"), ("number", "invalid")]),
        ({"number": "TAKEN"}, [("number", "invalid")]),
        ({"number": "TAKEN", "quantity": Decimal("2.5")}, [("number", "invalid")]),
        ({"number": "EARLIER"}, [("number", "invalid")]),
    ],
)
def test_the_first_refused_record_is_reported_as_the_service_reports_it(phone, erp, bad, expected):
    item = phone.items.phone
    WorkOrderFactory(item=item, number="TAKEN")
    records = [
        order("SAP-1", item, number="EARLIER"),
        order("SAP-2", item),
        order("SAP-3", item, **bad),
        order("SAP-4", item, priority=900),  # refused too, but after the first
    ]
    _, errors, (rows, _, _) = assert_same(records, erp)
    assert [(e["index"], e["field"], e["code"]) for e in errors] == [(2, f, c) for f, c in expected]
    assert [row[0] for row in rows] == ["TAKEN"]


def test_a_pinned_bom_of_another_item_is_refused_alike(phone, erp):
    records = [order("SAP-1", phone.items.phone), order("SAP-2", phone.items.phone, bom=phone.board_bom)]
    _, errors, _ = assert_same(records, erp)
    assert [(e["index"], e["field"], e["code"]) for e in errors] == [(1, "bom", "invalid_bom")]


def test_a_generated_number_already_taken_gets_a_suffix_alike(phone, erp):
    item = phone.items.phone
    # the numbers the next new orders would be given are taken already
    fillers = [WorkOrderFactory(item=item, number=f"FILL-{n}") for n in range(30)]
    next_id = max(f.pk for f in fillers) + 1
    for offset, filler in enumerate(fillers):
        filler.number = f"WO-{next_id + offset:06d}"
        filler.save(update_fields=["number"])
    records = [order(f"SAP-{n}", item) for n in range(3)]
    _, errors, (rows, _, _) = assert_same(records, erp)
    assert errors is None
    numbers = {row[0]: row[1] for row in rows}
    assert all(numbers[f"SAP-{n}"] == "WO-<id>-2" for n in range(3))


def test_numbers_passed_round_between_drafts_give_the_same_result(phone, erp):
    item = phone.items.phone
    WorkOrderFactory(item=item, external_id="SAP-A", number="N1")
    WorkOrderFactory(item=item, external_id="SAP-B", number="N2")
    records = [order("SAP-A", item, number="N3"), order("SAP-B", item, number="N1"), order("SAP-C", item, number="N2")]
    _, errors, (rows, _, _) = assert_same(records, erp)
    assert errors is None
    assert {row[0]: row[1] for row in rows} == {"SAP-A": "N3", "SAP-B": "N1", "SAP-C": "N2"}


def test_a_repeated_external_id_is_applied_record_after_record(phone, erp):
    item = phone.items.phone
    results, errors, (rows, _, _) = assert_same([order("SAP-1", item), order("SAP-1", item, "8")], erp)
    assert errors is None and [created for _, _, created in results] == [True, False]
    assert [row[3] for row in rows] == [Decimal("8")]


def test_bulk_endpoint_writes_the_trail_with_user_and_reason_in_few_queries(phone, erp_client, django_assert_max_num_queries):
    WorkOrderFactory(item=phone.items.phone, external_id="SAP-0", number="KEEP-0")
    records = [{"external_id": f"SAP-{n}", "item": phone.items.phone.pk, "quantity": "5", "priority": 60} for n in range(200)]
    with django_assert_max_num_queries(40):
        response = erp_client.post(
            "/api/v1/work-orders/bulk/", {"records": records}, format="json", HTTP_CHANGE_REASON="nightly import"
        )
    assert response.status_code == 200, response.content
    body = response.json()["results"]
    assert [r["created"] for r in body[:2]] == [False, True]
    assert WorkOrder.objects.get(external_id="SAP-0").number == "KEEP-0"
    created = WorkOrder.objects.get(external_id="SAP-7")
    assert created.number == f"WO-{created.pk:06d}" and created.priority == 60
    trail = list(created.history.order_by("history_id").values_list("history_type", "history_user_id", "history_change_reason"))
    assert trail == [("+", erp_client.user.pk, "nightly import"), ("~", erp_client.user.pk, "nightly import")]
    assert list(created.events.values_list("from_status", "to_status", "reason")) == [("", "draft", "created")]


def test_bulk_endpoint_reports_a_released_order_per_record(phone, erp_client):
    WorkOrderFactory(item=phone.items.phone, external_id="SAP-R", number="REL-9", status="released")
    records = [
        {"external_id": "SAP-1", "item": phone.items.phone.pk, "quantity": "5"},
        {"external_id": "SAP-R", "item": phone.items.phone.pk, "quantity": "6"},
    ]
    response = erp_client.post("/api/v1/work-orders/bulk/", {"records": records}, format="json")
    assert response.status_code == 400
    [error] = response.json()["record_errors"]
    assert (error["index"], error["code"]) == (1, "work_order_not_draft")
    assert not WorkOrder.objects.filter(external_id="SAP-1").exists()


def test_bulk_endpoint_names_unknown_items_per_record(phone, erp_client):
    records = [
        {"external_id": "SAP-1", "item": phone.items.phone.pk, "quantity": "5"},
        {"external_id": "SAP-2", "item": 999999, "quantity": "5"},
        {"external_id": "SAP-3", "item": "x", "quantity": "5"},
    ]
    response = erp_client.post("/api/v1/work-orders/bulk/", {"records": records}, format="json")
    assert response.status_code == 400
    assert [(e["index"], e["field"], e["code"]) for e in response.json()["record_errors"]] == [
        (1, "item", "does_not_exist"),
        (2, "item", "incorrect_type"),
    ]


def test_bulk_endpoint_names_a_reference_given_as_a_list_or_object_per_record(phone, erp_client):
    records = [
        {"external_id": "SAP-1", "item": [phone.items.phone.pk], "quantity": "5"},
        {"external_id": "SAP-2", "item": {"id": phone.items.phone.pk}, "quantity": "5"},
    ]
    response = erp_client.post("/api/v1/work-orders/bulk/", {"records": records}, format="json")
    assert response.status_code == 400
    assert [(e["index"], e["field"], e["code"]) for e in response.json()["record_errors"]] == [
        (0, "item", "incorrect_type"),
        (1, "item", "incorrect_type"),
    ]
    assert not WorkOrder.objects.filter(external_id__in=["SAP-1", "SAP-2"]).exists()


def test_what_only_the_database_refuses_sends_the_batch_through_the_per_record_service(phone, erp, monkeypatch):
    from django.db import IntegrityError

    from orders.services import work_orders_bulk

    def racing_insert(*args, **kwargs):
        WorkOrderFactory(item=phone.items.phone, number="PARTIAL")  # rolled back with the attempt
        raise IntegrityError("duplicate key value violates unique constraint")

    item = phone.items.phone
    records = [order("SAP-1", item), order("SAP-2", item, number="GIVEN")]
    expected = _outcome(batch(erp), records, erp)
    monkeypatch.setattr(work_orders_bulk, "_upsert_batch", racing_insert)
    assert _outcome(batch(erp), records, erp) == expected
