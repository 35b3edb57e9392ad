"""API tokens: the token, its user and the user's roles are read in one statement per request."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from mes.api.permissions import user_roles
from mes.api.tokens import RoleTokenAuthentication
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_a_token_request_reads_the_user_and_its_roles_in_one_statement(api_client_for):
    ItemFactory(code="READ-ME")
    client = api_client_for("planner")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/items/")
    assert response.status_code == 200, response.content
    statements = [q["sql"] for q in queries.captured_queries]
    assert sum("authtoken_token" in sql for sql in statements) == 1
    assert not any('"auth_group"' in sql and "authtoken_token" not in sql for sql in statements)


def test_the_user_comes_with_its_roles_and_the_token(make_user):
    from rest_framework.authtoken.models import Token

    user = make_user("quality", "planner")
    key = Token.objects.create(user=user).key
    found, token = RoleTokenAuthentication().authenticate_credentials(key)
    assert (found.pk, found.username, found.is_active) == (user.pk, user.username, True)
    assert found.date_joined == user.date_joined and found.date_joined.tzinfo is not None
    assert (token.key, token.user_id, token.user) == (key, user.pk, found)
    assert token.created == Token.objects.get(key=key).created
    with CaptureQueriesContext(connection) as queries:
        assert user_roles(found) == {"quality", "planner"}
    assert queries.captured_queries == []


def test_a_user_without_a_role_reads_nothing(make_user):
    from rest_framework.authtoken.models import Token

    user = make_user()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert client.get("/api/v1/items/").status_code == 403


def test_a_role_given_or_taken_counts_from_the_next_request(api_client_for):
    client = api_client_for("operator")
    assert client.post("/api/v1/items/", {"code": "X", "name": "X", "tracking": "lot", "unit": "pcs"}, format="json").status_code == 403
    client.user.groups.add(Group.objects.get(name="planner"))
    assert client.post("/api/v1/items/", {"code": "X", "name": "X", "tracking": "lot", "unit": "pcs"}, format="json").status_code == 201
    client.user.groups.clear()
    assert client.get("/api/v1/items/").status_code == 403


def test_an_unknown_token_or_an_inactive_user_is_refused_as_unauthenticated(api_client_for):
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    refused = stranger.get("/api/v1/items/")
    assert refused.status_code == 401 and refused.json()["detail"] == "Invalid token."
    client = api_client_for("planner")
    client.user.is_active = False
    client.user.save(update_fields=["is_active"])
    inactive = client.get("/api/v1/items/")
    assert inactive.status_code == 401 and inactive.json()["detail"] == "User inactive or deleted."
