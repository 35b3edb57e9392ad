"""Idempotency-Key: a retry returns the first response and changes nothing."""

import threading

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inventory.models import Item
from mes.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

BODY = {"code": "IDEM-1", "name": "Idempotent part", "unit": "pcs"}


def test_retry_with_same_key_returns_first_response_and_creates_once(planner_client):
    first = planner_client.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = planner_client.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Item.objects.filter(code="IDEM-1").count() == 1


def test_same_key_with_another_body_is_422_and_changes_nothing(planner_client):
    planner_client.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = planner_client.post(
        "/api/v1/items/", {**BODY, "code": "IDEM-2"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert not Item.objects.filter(code="IDEM-2").exists()


def test_keys_are_per_user(api_client_for):
    a, b = api_client_for("planner"), api_client_for("planner")
    assert a.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    second = b.post("/api/v1/items/", {**BODY, "code": "IDEM-B"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert second.status_code == 201
    assert Item.objects.filter(code__in=["IDEM-1", "IDEM-B"]).count() == 2


def test_a_refused_request_is_replayed_as_refused(planner_client):
    bad = {"code": "", "name": "x", "unit": "pcs"}
    first = planner_client.post("/api/v1/items/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    again = planner_client.post("/api/v1/items/", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()


def test_requests_without_a_key_are_not_recorded(planner_client):
    planner_client.post("/api/v1/items/", BODY, format="json")
    assert IdempotencyRecord.objects.count() == 0


def test_an_overlong_key_is_a_400(planner_client):
    response = planner_client.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Item.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_effect(make_user):
    # Given two tablets retrying the same request at the same moment
    user = make_user("planner")
    token = Token.objects.create(user=user)
    barrier = threading.Barrier(2)
    results = []

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        barrier.wait()
        try:
            response = client.post("/api/v1/items/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then both get the same created item, and only one exists
    assert [status for status, _ in results] == [201, 201]
    assert results[0][1]["id"] == results[1][1]["id"]
    assert Item.objects.filter(code="IDEM-1").count() == 1
    assert IdempotencyRecord.objects.filter(key="same-key").count() == 1
