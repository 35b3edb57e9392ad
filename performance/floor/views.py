"""The operator's page at ``/floor/``: log in, pick the work center, see its dispatch list, act on
an operation, report, record downtime.

These views only read (through the orders selectors) and render. Every action on the page is a
request to the REST API from the page's script — the same endpoints and services a tablet client
uses, with the session, its CSRF token and an ``Idempotency-Key`` per action — so the page holds
no rule of its own: a refusal is the API's problem document, shown as it is.

Only operators and planners (and superusers) get in; anyone else logged in sees a refusal.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from mes.api.permissions import OPERATOR, PLANNER, has_role
from orders import selectors as orders
from orders.models import (
    ACTIVE_OPERATION_STATUSES,
    OPERATION_TRANSITIONS,
    DowntimeEvent,
    DowntimeReason,
    OperationStatus,
    ScrapReason,
    WorkCenter,
)
from orders.selectors.dispatch import DISPATCHABLE_ORDER_STATUSES
from performance.selectors import oee_report, work_center_for_oee

FLOOR_ROLES = (OPERATOR, PLANNER)
DISPATCH_ROWS = 30


def floor_access(view):
    """Anonymous → the floor's login page; logged in without the operator or planner role → 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse("floor:login"))
        if not has_role(request.user, *FLOOR_ROLES):
            return render(request, "performance/floor/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


class FloorLoginView(auth_views.LoginView):
    template_name = "performance/floor/login.html"
    redirect_authenticated_user = False

    def get_default_redirect_url(self):
        return reverse("floor:home")


class FloorLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("floor:login")


@floor_access
def home(request):
    """Pick the work center: each with how many operations wait there and whether it is down."""
    active = Q(
        operations__status__in=list(ACTIVE_OPERATION_STATUSES),
        operations__work_order__status__in=list(DISPATCHABLE_ORDER_STATUSES),
    )
    centers = (
        WorkCenter.objects.filter(is_active=True)
        .annotate(waiting=Count("operations", filter=active, distinct=True))
        .order_by("code")
    )
    down = set(DowntimeEvent.objects.filter(ended_at__isnull=True).values_list("work_center_id", flat=True))
    return render(request, "performance/floor/home.html", {"centers": centers, "down": down})


def _actions(status: str) -> dict[str, bool]:
    """Which operator buttons the operation's transition table allows now."""
    allowed = OPERATION_TRANSITIONS.get(status, frozenset())
    return {
        "start": status == OperationStatus.READY and OperationStatus.RUNNING in allowed,
        "pause": OperationStatus.PAUSED in allowed,
        "resume": status == OperationStatus.PAUSED and OperationStatus.RUNNING in allowed,
        "complete": OperationStatus.DONE in allowed,
    }


def _selected(work_center: WorkCenter, rows, wanted: str | None):
    if wanted and wanted.isdigit():
        for row in rows:
            if row.operation.pk == int(wanted):
                return row
        operation = orders.operation_list().filter(pk=int(wanted), work_center=work_center).first()
        if operation is not None:
            return orders.dispatch_rows([operation])[0]
    return rows[0] if rows else None


def _this_shift(work_center: WorkCenter) -> dict | None:
    """OEE figures of the shift running now (or the last 8 hours without a calendar shift)."""
    now = timezone.now()
    report = oee_report(work_center=work_center_for_oee(work_center.pk), start=now - dt.timedelta(hours=8), end=now, now=now)
    if not report.pieces:
        return None
    current = report.pieces[-1]
    figures = current.figures.as_dict()
    return {"name": current.period.name, "since": current.start, **figures}


@floor_access
def station(request, pk: int):
    """The station screen of one work center; ``?operation=`` selects the operation shown, and
    ``?partial=1`` answers only the part the page's script refreshes after an action."""
    work_center = get_object_or_404(WorkCenter.objects.select_related("calendar"), pk=pk, is_active=True)
    rows = orders.dispatch_rows(list(orders.dispatch_queryset(work_center=work_center)[:DISPATCH_ROWS]))
    selected = _selected(work_center, rows, request.GET.get("operation"))
    context = {
        "work_center": work_center,
        "rows": rows,
        "selected": selected,
        "actions": _actions(selected.operation.status) if selected else {},
        "is_first_operation": selected is not None and selected.quantity_available is None,
        "materials": [{"item": m.item, "code": m.item_code, "tracking": m.tracking} for m in (selected.materials if selected else [])],
        "scrap_reasons": ScrapReason.objects.filter(is_active=True).order_by("code"),
        "downtime_reasons": DowntimeReason.objects.filter(is_active=True).order_by("code"),
        "open_downtime": DowntimeEvent.objects.filter(work_center=work_center, ended_at__isnull=True).select_related("reason").first(),
        "shift": _this_shift(work_center),
    }
    template = "performance/floor/station_body.html" if request.GET.get("partial") else "performance/floor/station.html"
    return render(request, template, context)
