"""Items and locations through the API: CRUD, filters and upsert by the ERP's key."""

import pytest

from inventory.models import Item, Location
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_upsert_by_external_id_creates_then_updates(erp_client):
    url = "/api/v1/items/by-external-id/SAP-4711/"
    body = {"code": "BAT-1", "name": "Battery", "tracking": "lot", "unit": "pcs"}
    created = erp_client.put(url, body, format="json")
    assert created.status_code == 201, created.content
    updated = erp_client.put(url, {**body, "name": "Battery 4000"}, format="json")
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    item = Item.objects.get(external_id="SAP-4711")
    assert item.name == "Battery 4000"
    assert Item.objects.count() == 1


def test_upsert_validation_error_names_the_field(erp_client):
    response = erp_client.put("/api/v1/items/by-external-id/SAP-1/", {"code": "X", "name": "x", "unit": "parsec"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "unit"
    assert not Item.objects.exists()


def test_items_filter_by_code_tracking_and_external_id(planner_client):
    ItemFactory(code="A", tracking="lot", external_id="E-A")
    ItemFactory(code="B", tracking="serial")
    codes = lambda q: [r["code"] for r in planner_client.get(f"/api/v1/items/?{q}").json()["results"]]  # noqa: E731
    assert codes("tracking=lot") == ["A"]
    assert codes("code=B") == ["B"]
    assert codes("external_id=E-A") == ["A"]


def test_items_list_is_paginated_and_caps_page_size(planner_client):
    ItemFactory.create_batch(3)
    body = planner_client.get("/api/v1/items/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    big = planner_client.get("/api/v1/items/?page_size=100000")
    assert big.status_code == 200


def test_serial_items_need_a_whole_unit(planner_client):
    response = planner_client.post("/api/v1/items/", {"code": "S", "name": "s", "tracking": "serial", "unit": "kg"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "unit"


def test_location_tree_and_upsert(erp_client):
    site = erp_client.post("/api/v1/locations/", {"code": "SITE", "name": "Site", "kind": "site"}, format="json").json()
    response = erp_client.put(
        "/api/v1/locations/by-external-id/WH-1/", {"code": "BIN-1", "name": "Bin", "parent": site["id"]}, format="json"
    )
    assert response.status_code == 201
    assert Location.objects.get(code="BIN-1").parent_id == site["id"]


def test_location_cannot_be_its_own_ancestor(planner_client):
    a = Location.objects.create(code="A", name="a")
    b = Location.objects.create(code="B", name="b", parent=a)
    response = planner_client.patch(f"/api/v1/locations/{a.pk}/", {"parent": b.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "parent"
    a.refresh_from_db()
    assert a.parent_id is None


def test_demo_factory_loads_twice_without_duplicates(db):
    from django.core.management import call_command

    call_command("load_demo_factory", "--no-users")
    counts = (Item.objects.count(), Location.objects.count())
    call_command("load_demo_factory")
    assert (Item.objects.count(), Location.objects.count()) == counts
    assert Item.objects.filter(tracking="serial").exists() and Item.objects.filter(tracking="lot").exists()
