"""Shared fixtures: API clients per role, markers for PostgreSQL and the real Celery worker."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from mes.api.permissions import ALL_ROLES
from tests.factories import UserFactory

BROKER = os.environ.get("CELERY_BROKER_URL", "")


def pytest_configure(config):
    # Hashing a password the production way takes a third of a second; tests create many users.
    from django.test.utils import override_settings

    override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]).enable()


def pytest_collection_modifyitems(config, items):
    vendor = settings.DATABASES["default"]["ENGINE"]
    on_postgres = "postgresql" in vendor
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    skip_worker = pytest.mark.skip(reason="needs a broker and a running celery worker (set CELERY_BROKER_URL)")
    for item in items:
        if item.get_closest_marker("postgres") and not on_postgres:
            item.add_marker(skip_pg)
        if item.get_closest_marker("integration") and not BROKER:
            item.add_marker(skip_worker)


@pytest.fixture(autouse=True)
def celery_mode(request):
    """Eager everywhere but in integration tests, which go through the broker to a real worker."""
    from mes.celery import app

    eager = request.node.get_closest_marker("integration") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def make_user(db):
    def make(*roles: str, **kwargs):
        return UserFactory(roles=list(roles), **kwargs)

    return make


@pytest.fixture
def api_client_for(make_user):
    """``api_client_for("planner")`` → an APIClient authenticated by token as a new user with that role."""
    from rest_framework.authtoken.models import Token

    def make(*roles: str, user=None) -> APIClient:
        user = user or make_user(*roles)
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        client.user = user
        return client

    return make


@pytest.fixture
def planner_client(api_client_for):
    return api_client_for("planner")


@pytest.fixture
def operator_client(api_client_for):
    return api_client_for("operator")


@pytest.fixture
def quality_client(api_client_for):
    return api_client_for("quality")


@pytest.fixture
def erp_client(api_client_for):
    return api_client_for("integration")


@pytest.fixture
def anonymous_client():
    return APIClient()


@pytest.fixture
def all_roles():
    return sorted(ALL_ROLES)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def fresh_throttle_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def reference_data(request):
    """Roles and units come from data migrations; a transactional test's flush removes them."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        return
    request.getfixturevalue("_django_db_helper")
    from django.contrib.auth.models import Group

    from inventory.models import UnitOfMeasure

    if not Group.objects.filter(name="integration").exists():
        for name in ALL_ROLES:
            Group.objects.get_or_create(name=name)
    if not UnitOfMeasure.objects.filter(code="pcs").exists():
        import importlib

        units = importlib.import_module("inventory.migrations.0002_units").UNITS
        for code, name, decimals in units:
            UnitOfMeasure.objects.get_or_create(code=code, defaults={"name": name, "decimals": decimals})
