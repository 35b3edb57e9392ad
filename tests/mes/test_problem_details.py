"""Every error is application/problem+json, names the field, and is never a 500 for bad input."""

import pytest

from inventory.models import Item, Location

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"] and body["detail"]
    if code:
        assert body["code"] == code
    return body


def test_malformed_json_is_a_400_problem(planner_client):
    response = planner_client.generic("POST", "/api/v1/items/", "{not json", content_type="application/json")
    body = assert_problem(response, 400, "parse_error")
    assert Item.objects.count() == 0
    assert "JSON" in body["detail"]


def test_wrong_field_type_names_the_field(planner_client):
    response = planner_client.post(
        "/api/v1/items/", {"code": "X1", "name": "x", "tracking": "sometimes", "unit": "pcs"}, format="json"
    )
    body = assert_problem(response, 400, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["tracking"]
    assert Item.objects.count() == 0


def test_missing_fields_are_each_named(planner_client):
    response = planner_client.post("/api/v1/items/", {"tracking": "lot"}, format="json")
    body = assert_problem(response, 400, "validation_error")
    assert {e["field"] for e in body["errors"]} == {"code", "name", "unit"}


def test_body_of_the_wrong_shape_is_a_400(planner_client):
    response = planner_client.post("/api/v1/items/", [1, 2, 3], format="json")
    assert_problem(response, 400)


def test_unknown_unit_names_the_field(planner_client):
    response = planner_client.post("/api/v1/items/", {"code": "X", "name": "x", "unit": "furlong"}, format="json")
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "unit"


def test_unique_code_is_a_field_error(planner_client):
    Item.objects.create(code="DUP", name="first")
    response = planner_client.post("/api/v1/items/", {"code": "DUP", "name": "second", "unit": "pcs"}, format="json")
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "code"
    assert Item.objects.filter(code="DUP").count() == 1


def test_unknown_resource_is_a_404_problem(planner_client):
    assert_problem(planner_client.get("/api/v1/items/999999/"), 404)
    assert_problem(planner_client.get("/api/v1/no-such-thing/"), 404)


def test_wrong_method_is_a_405_problem(planner_client):
    response = planner_client.post("/api/v1/events/", {}, format="json")
    body = assert_problem(response, 405)
    assert "GET" in response["Allow"]
    assert body["code"] == "method_not_allowed"


def test_wrong_media_type_is_a_415_problem(planner_client):
    response = planner_client.generic("POST", "/api/v1/items/", "code=X", content_type="text/plain")
    assert_problem(response, 415)


def test_deleting_a_location_in_use_is_a_409_problem(planner_client):
    parent = Location.objects.create(code="P", name="parent")
    Location.objects.create(code="C", name="child", parent=parent)
    response = planner_client.delete(f"/api/v1/locations/{parent.pk}/")
    assert_problem(response, 409, "conflict")
    assert Location.objects.filter(pk=parent.pk).exists()


def test_too_many_requests_is_a_429_problem(anonymous_client, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "rate", "2/minute", raising=False)
    monkeypatch.setattr(AnonRateThrottle, "num_requests", 2, raising=False)
    monkeypatch.setattr(AnonRateThrottle, "duration", 60, raising=False)
    monkeypatch.setattr(AnonRateThrottle, "get_rate", lambda self: "2/minute")
    for _ in range(2):
        anonymous_client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
    response = anonymous_client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
    body = assert_problem(response, 429, "throttled")
    assert body["retry_after_seconds"] >= 0


def test_unauthenticated_is_a_401_problem(anonymous_client):
    assert_problem(anonymous_client.get("/api/v1/items/"), 401, "not_authenticated")
