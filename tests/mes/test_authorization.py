"""Every endpoint states who may call it, anonymous callers get nothing, and the rules hold.

The walk covers every URL of the routers and every operation of the OpenAPI schema, so a new
endpoint without a role rule fails here before it ships.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from mes.api.permissions import ALL_ROLES, HasRole, allowed_roles

PUBLIC_PATHS = {"/api/v1/auth/token/", "/api/schema/", "/api/docs/", "/health/"}


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def api_views():
    for route, callback in walk(get_resolver().url_patterns):
        cls = getattr(callback, "cls", None)
        if cls is None or not route.startswith("api/v1/"):
            continue
        yield route, callback, cls


def test_every_api_view_uses_role_permissions_or_is_public():
    offenders = []
    for route, callback, cls in api_views():
        classes = list(cls.permission_classes)
        if f"/{route}" in PUBLIC_PATHS or route == "api/v1/auth/token/":
            assert classes == [AllowAny]
            continue
        if HasRole not in classes:
            offenders.append(route)
    assert offenders == []


def test_every_api_action_names_the_roles_allowed():
    missing = []
    for route, callback, cls in api_views():
        if route == "api/v1/auth/token/":
            continue
        actions = getattr(callback, "actions", None) or {
            m: m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)
        }
        for method, action in actions.items():
            if method in ("head", "options"):
                continue
            view = cls()
            view.action = action
            roles = allowed_roles(view, method.upper())
            if not roles or not roles <= ALL_ROLES:
                missing.append(f"{method.upper()} {route} ({action}): {sorted(roles)}")
    assert missing == []


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.django_db
def test_anonymous_callers_are_refused_everywhere_but_the_public_endpoints(anonymous_client):
    schema = anonymous_client.get("/api/schema/?format=json").json()
    open_endpoints = []
    for path, operations in schema["paths"].items():
        for method in operations:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            url = concrete(path)
            if url in PUBLIC_PATHS:
                continue
            response = getattr(anonymous_client, method)(url, {}, format="json") if method != "get" else anonymous_client.get(url)
            if response.status_code != 401:
                open_endpoints.append(f"{method.upper()} {path} → {response.status_code}")
    assert open_endpoints == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_declared_rules_are_what_the_api_enforces(role, api_client_for, anonymous_client):
    """For every operation: a role outside its rule gets 403, a role inside never does."""
    client = api_client_for(role)
    schema = anonymous_client.get("/api/schema/?format=json").json()
    resolver = get_resolver()
    mismatches = []
    for path, operations in schema["paths"].items():
        url = concrete(path)
        if url in PUBLIC_PATHS:
            continue
        match = resolver.resolve(url)
        cls = match.func.cls
        for method in operations:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            view = cls()
            view.action = (getattr(match.func, "actions", None) or {}).get(method, method)
            allowed = role in allowed_roles(view, method.upper())
            response = client.get(url) if method == "get" else getattr(client, method)(url, {}, format="json")
            refused = response.status_code == 403
            if allowed == refused:
                mismatches.append(f"{role} {method.upper()} {path}: allowed={allowed} status={response.status_code}")
    assert mismatches == []
