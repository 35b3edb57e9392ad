"""Bulk upserts by external id: all or none, with errors per record."""

import pytest

from inventory.models import Item, Location

pytestmark = pytest.mark.django_db


def item_record(n, **overrides):
    return {"external_id": f"ERP-{n}", "code": f"P-{n:05d}", "name": f"Part {n}", "tracking": "lot", "unit": "pcs", **overrides}


def test_bulk_import_of_1000_items_applies_all(erp_client, django_assert_max_num_queries):
    records = [item_record(n) for n in range(1000)]
    response = erp_client.post("/api/v1/items/bulk/", {"records": records}, format="json")
    assert response.status_code == 200, response.content[:500]
    results = response.json()["results"]
    assert len(results) == 1000 and all(r["created"] for r in results)
    assert Item.objects.count() == 1000
    assert {r["id"] for r in results} == set(Item.objects.values_list("id", flat=True))


def test_bulk_import_updates_existing_by_external_id(erp_client):
    erp_client.post("/api/v1/items/bulk/", {"records": [item_record(1), item_record(2)]}, format="json")
    response = erp_client.post(
        "/api/v1/items/bulk/", {"records": [item_record(1, name="Renamed"), item_record(3)]}, format="json"
    )
    assert response.status_code == 200
    assert [r["created"] for r in response.json()["results"]] == [False, True]
    assert Item.objects.get(external_id="ERP-1").name == "Renamed"
    assert Item.objects.count() == 3


def test_one_bad_record_rejects_the_whole_batch(erp_client):
    records = [item_record(n) for n in range(1000)]
    records[500]["tracking"] = "sometimes"
    records[700]["unit"] = "parsec"
    response = erp_client.post("/api/v1/items/bulk/", {"records": records}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bulk_rejected"
    assert {(e["index"], e["field"]) for e in body["record_errors"]} == {(500, "tracking"), (700, "unit")}
    assert {e["field"] for e in body["errors"]} == {"records[500].tracking", "records[700].unit"}
    assert Item.objects.count() == 0


def test_rule_broken_in_a_row_rejects_the_batch(erp_client):
    records = [item_record(1), item_record(2, tracking="serial", unit="kg")]
    response = erp_client.post("/api/v1/items/bulk/", {"records": records}, format="json")
    assert response.status_code == 400
    assert response.json()["record_errors"][0]["index"] == 1
    assert not Item.objects.exists()


def test_duplicates_inside_the_batch_and_codes_taken_are_refused(erp_client):
    Item.objects.create(code="TAKEN", name="x", external_id="OTHER")
    records = [item_record(1, code="SAME"), item_record(2, code="SAME"), item_record(3, code="TAKEN"), item_record(1)]
    response = erp_client.post("/api/v1/items/bulk/", {"records": records}, format="json")
    assert response.status_code == 400
    found = {(e["index"], e["field"], e["code"]) for e in response.json()["record_errors"]}
    assert (0, "code", "duplicate_in_batch") in found
    assert (2, "code", "unique") in found
    assert (3, "external_id", "duplicate_in_batch") in found
    assert Item.objects.count() == 1


def test_records_need_an_external_id_and_batches_are_capped(erp_client):
    response = erp_client.post("/api/v1/items/bulk/", {"records": [{"code": "X", "name": "x", "unit": "pcs"}]}, format="json")
    assert response.status_code == 400 and response.json()["record_errors"][0]["field"] == "external_id"
    too_many = [item_record(n) for n in range(1001)]
    response = erp_client.post("/api/v1/items/bulk/", {"records": too_many}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "records"
    assert not Item.objects.exists()


def test_bulk_locations(erp_client):
    records = [{"external_id": f"L-{n}", "code": f"BIN-{n}", "name": f"Bin {n}"} for n in range(5)]
    assert erp_client.post("/api/v1/locations/bulk/", {"records": records}, format="json").status_code == 200
    assert Location.objects.count() == 5


def test_operators_cannot_bulk_import(operator_client):
    response = operator_client.post("/api/v1/items/bulk/", {"records": [item_record(1)]}, format="json")
    assert response.status_code == 403


def test_code_taken_by_another_record_alone_rejects_the_batch(erp_client):
    Item.objects.create(code="TAKEN", name="x", external_id="OTHER")
    response = erp_client.post("/api/v1/items/bulk/", {"records": [item_record(1), item_record(2, code="TAKEN")]}, format="json")
    assert response.status_code == 400
    assert [(e["index"], e["field"], e["code"]) for e in response.json()["record_errors"]] == [(1, "code", "unique")]
    assert Item.objects.count() == 1


def test_bulk_changes_leave_an_audit_trail_and_unchanged_records_are_not_rewritten(erp_client, operator_client):
    # Given two items imported in bulk
    erp_client.post("/api/v1/items/bulk/", {"records": [item_record(1), item_record(2)]}, format="json")
    first, second = Item.objects.get(external_id="ERP-1"), Item.objects.get(external_id="ERP-2")
    # When the ERP sends both again, one renamed, with a reason
    response = erp_client.post(
        "/api/v1/items/bulk/",
        {"records": [item_record(1, name="Renamed"), item_record(2)]},
        format="json",
        HTTP_CHANGE_REASON="ERP nightly sync",
    )
    assert response.status_code == 200
    # Then the renamed one has a trail of create and change, by the ERP's user, with the reason
    trail = operator_client.get(f"/api/v1/history/items/{first.pk}/").json()
    assert [e["change"] for e in trail] == ["changed", "created"]
    assert trail[0]["changes"] == {"name": {"old": "Part 1", "new": "Renamed"}}
    assert trail[0]["user"] == erp_client.user.username and trail[0]["reason"] == "ERP nightly sync"
    # And the one sent unchanged was not written again
    assert [e["change"] for e in operator_client.get(f"/api/v1/history/items/{second.pk}/").json()] == ["created"]
    second_after = Item.objects.get(pk=second.pk)
    assert second_after.updated_at == second.updated_at
