"""Demo users, one per role, for the embedded default."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

DEMO_USERS = [
    # username, password, role (None = superuser)
    ("admin", "admin-demo-pass", None),
    ("planner", "planner-demo-pass", "planner"),
    ("operator", "operator-demo-pass", "operator"),
    ("quality", "quality-demo-pass", "quality"),
    ("erp", "erp-demo-pass", "integration"),
]


def create_demo_users() -> list[tuple[str, str, str]]:
    """Create (or reset) the demo users; returns (username, password, role) rows."""
    User = get_user_model()
    rows = []
    for username, password, role in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.is_staff = role in (None, "planner", "quality")
        user.is_superuser = role is None
        user.set_password(password)
        user.save()
        if role:
            user.groups.set([Group.objects.get(name=role)])
            if user.is_staff:
                _grant_admin_permissions(user, role)
        Token.objects.get_or_create(user=user)
        rows.append((username, password, role or "superuser"))
    return rows


def _grant_admin_permissions(user, role: str) -> None:
    """Planners and quality engineers work in the admin: give their group the model permissions."""
    from django.contrib.auth.models import Permission

    apps_by_role = {
        "planner": ["inventory", "orders"],
        "quality": ["quality", "inventory"],
    }
    group = Group.objects.get(name=role)
    perms = Permission.objects.filter(content_type__app_label__in=apps_by_role.get(role, []))
    group.permissions.add(*perms)
