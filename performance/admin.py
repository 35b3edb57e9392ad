"""Performance in the admin: the planner's dashboard (listed on the admin index) and the shift
roll-ups, read-only (the periodic task writes them)."""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils import timezone

from performance.models import PlannerDashboard, ShiftPerformance
from performance.selectors import last_shifts_oee, late_orders, orders_by_status


class StaffOnly:
    """Every staff member may look; nobody adds, changes or deletes here."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlannerDashboard)
class PlannerDashboardAdmin(StaffOnly, admin.ModelAdmin):
    """`/admin/performance/plannerdashboard/`: orders by status, late orders, OEE of the last shifts."""

    def changelist_view(self, request, extra_context=None):
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "title": "Planner dashboard",
            "opts": self.model._meta,
            "statuses": orders_by_status(),
            "late": list(late_orders(now=now)),
            "charts": last_shifts_oee(now=now),
            "now": now,
        }
        context.update(extra_context or {})
        return TemplateResponse(request, "admin/performance/dashboard.html", context)


@admin.register(ShiftPerformance)
class ShiftPerformanceAdmin(StaffOnly, admin.ModelAdmin):
    list_display = ["work_center", "name", "starts_at", "ends_at", "operating_time", "unplanned_downtime", "good_quantity", "scrap_quantity", "computed_at"]
    list_filter = ["work_center", "kind"]
    date_hierarchy = "starts_at"
    list_select_related = ["work_center"]
