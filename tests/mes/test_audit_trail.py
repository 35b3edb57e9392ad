"""Audit trail: who changed master data and orders, when, why — readable, never editable."""

import pytest

from inventory.models import Item

pytestmark = pytest.mark.django_db


def test_item_changes_are_recorded_with_user_and_reason(planner_client, operator_client):
    created = planner_client.post("/api/v1/items/", {"code": "AUD-1", "name": "Audited", "unit": "pcs"}, format="json")
    item_id = created.json()["id"]
    planner_client.patch(
        f"/api/v1/items/{item_id}/", {"name": "Audited part"}, format="json", HTTP_CHANGE_REASON="ECN-42 rename"
    )
    trail = operator_client.get(f"/api/v1/history/items/{item_id}/")
    assert trail.status_code == 200
    newest, first = trail.json()
    assert newest["change"] == "changed" and newest["reason"] == "ECN-42 rename"
    assert newest["user"] == planner_client.user.username
    assert newest["changes"] == {"name": {"old": "Audited", "new": "Audited part"}}
    assert first["change"] == "created"


def test_history_survives_deletion(planner_client):
    item = Item.objects.create(code="AUD-2", name="Short-lived")
    planner_client.delete(f"/api/v1/items/{item.pk}/")
    changes = [e["change"] for e in planner_client.get(f"/api/v1/history/items/{item.pk}/").json()]
    assert changes == ["deleted", "created"]


def test_unknown_resource_or_record_is_404(planner_client):
    assert planner_client.get("/api/v1/history/lots/1/").status_code == 404
    assert planner_client.get("/api/v1/history/items/999999/").status_code == 404


def test_history_is_read_only_in_the_admin(client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("boss", "b@example.com", "x-pass-123")
    client.force_login(admin_user)
    Item.objects.create(code="AUD-3", name="x")
    history_model = Item.history.model
    url = f"/admin/mes/{history_model._meta.model_name}/"
    assert client.get(url).status_code == 200
    record = history_model.objects.get(code="AUD-3")
    assert client.post(f"{url}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert history_model.objects.filter(code="AUD-3").exists()
