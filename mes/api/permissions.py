"""Roles and the permission every endpoint uses.

Roles are Django groups (created by a data migration). A view states who may call it:

    read_roles = ALL_ROLES                 # GET/HEAD/OPTIONS
    write_roles = {PLANNER, INTEGRATION}   # POST/PUT/PATCH/DELETE
    action_roles = {"release": {PLANNER}}  # per viewset action, overrides the two above

A view that states nothing refuses everyone but superusers, so a forgotten rule fails closed.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

OPERATOR = "operator"
PLANNER = "planner"
QUALITY = "quality"
INTEGRATION = "integration"
ALL_ROLES = frozenset({OPERATOR, PLANNER, QUALITY, INTEGRATION})


def user_roles(user) -> frozenset[str]:
    if not user or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_mes_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._mes_roles = cached
    return cached


def remember_roles(user, roles) -> None:
    """Keep the roles of a user that were read with it (see ``mes.api.tokens``)."""
    user._mes_roles = frozenset(roles)


def allowed_roles(view, method: str) -> frozenset[str]:
    action = getattr(view, "action", None)
    action_roles = getattr(view, "action_roles", None) or {}
    if action and action in action_roles:
        return frozenset(action_roles[action])
    if method in SAFE_METHODS:
        return frozenset(getattr(view, "read_roles", ()) or ())
    return frozenset(getattr(view, "write_roles", ()) or ())


class HasRole(BasePermission):
    message = "Your role may not do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if user.is_superuser:
            return True
        if getattr(view, request.method.lower(), None) is None:
            return True  # the view answers 405 for a method it does not have
        return bool(user_roles(user) & allowed_roles(view, request.method))


def has_role(user, *roles: str) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user_roles(user) & set(roles)))
