"""Each role may do what its job needs on the item master, and nothing else."""

import pytest

from inventory.models import Item
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db

NEW_ITEM = {"code": "NEW-1", "name": "New part", "tracking": "lot", "unit": "pcs"}


@pytest.mark.parametrize("role", ["operator", "planner", "quality", "integration"])
def test_every_role_reads_the_item_master(api_client_for, role):
    ItemFactory(code="READ-ME")
    response = api_client_for(role).get("/api/v1/items/")
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == ["READ-ME"]


@pytest.mark.parametrize("role", ["planner", "integration"])
def test_planner_and_erp_create_items(api_client_for, role):
    response = api_client_for(role).post("/api/v1/items/", NEW_ITEM, format="json")
    assert response.status_code == 201, response.content
    assert Item.objects.get(code="NEW-1").tracking == "lot"


@pytest.mark.parametrize("role", ["operator", "quality"])
def test_operator_and_quality_cannot_change_items(api_client_for, role):
    item = ItemFactory()
    client = api_client_for(role)
    assert client.post("/api/v1/items/", NEW_ITEM, format="json").status_code == 403
    assert client.patch(f"/api/v1/items/{item.pk}/", {"name": "changed"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/items/{item.pk}/").status_code == 403
    item.refresh_from_db()
    assert item.name != "changed"
    assert not Item.objects.filter(code="NEW-1").exists()


def test_a_user_without_a_role_is_refused(api_client_for):
    response = api_client_for().get("/api/v1/items/")
    assert response.status_code == 403


def test_token_endpoint_trades_credentials_for_a_token(anonymous_client, make_user):
    make_user("operator", username="op1")
    response = anonymous_client.post("/api/v1/auth/token/", {"username": "op1", "password": "secret-pass-123"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    anonymous_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anonymous_client.get("/api/v1/items/").status_code == 200


def test_token_endpoint_refuses_a_wrong_password(anonymous_client, make_user):
    make_user("operator", username="op2")
    response = anonymous_client.post("/api/v1/auth/token/", {"username": "op2", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
