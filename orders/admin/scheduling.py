"""Scheduling in the admin: planners start schedule runs and read their figures (runs are never
edited); a Gantt chart per work center shows a run's plan, and the current plan is linked from
the admin index ("Schedule (Gantt chart)")."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from mes.api.permissions import PLANNER, has_role
from orders.models import PlannedOperation, ScheduleRun, WorkCenter
from orders.selectors.gantt import gantt_current, gantt_for_run
from orders.services.scheduling import schedule_run_start

INPUT_FIELDS = ["horizon_start", "time_limit_seconds", "objective"]


def _work_center_param(request) -> int | None:
    try:
        return int(request.GET.get("work_center") or 0) or None
    except ValueError:
        return None


def _gantt_page(model_admin, request, *, chart, title: str, source: str, run: ScheduleRun | None = None):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "source": source,
        "chart": chart,
        "run": run,
        "work_center": _work_center_param(request),
        "work_centers": WorkCenter.objects.filter(is_active=True).only("pk", "code", "name").order_by("code"),
        "opts": ScheduleRun._meta,
    }
    return TemplateResponse(request, "admin/orders/schedule_gantt.html", context)


@admin.register(ScheduleRun)
class ScheduleRunAdmin(admin.ModelAdmin):
    list_display = [
        "id", "status", "objective", "solver_status", "makespan_minutes", "late_orders", "weighted_tardiness",
        "lower_bound", "gap", "heuristic_makespan_minutes", "heuristic_weighted_tardiness", "wall_seconds",
        "operations_count", "created_by", "created_at", "gantt",
    ]
    list_filter = ["status", "objective", "solver_status"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"
    fieldsets = [
        ("Inputs", {"fields": ["horizon_start", "time_limit_seconds", "objective"]}),
        ("Outcome", {"fields": ["status", "solver_status", "error", "gantt", "planned_from", "horizon_end", "published_operations"]}),
        (
            "Figures",
            {
                "fields": [
                    "objective_value", "lower_bound", "gap", "makespan_minutes", "weighted_tardiness", "late_orders",
                    "heuristic_makespan_minutes", "heuristic_weighted_tardiness", "heuristic_late_orders", "wall_seconds",
                    "work_orders_count", "operations_count", "frozen_operations_count",
                ]
            },
        ),
        ("Late work orders", {"fields": ["late_table"]}),
        ("Record", {"fields": ["input_fingerprint", "created_by", "created_at", "started_at", "finished_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("plan")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [("Start a schedule run", {"fields": INPUT_FIELDS, "description": (
                "Places every released operation on its work center within its calendar and publishes the planned "
                "start and end times, unless the orders change meanwhile. Leave the horizon start empty for now."
            )})]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [name for _, options in self.fieldsets for name in options["fields"]]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and has_role(request.user, PLANNER)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        run = schedule_run_start(**{name: form.cleaned_data[name] for name in INPUT_FIELDS}, user=request.user)
        obj.pk = obj.id = run.pk
        self.message_user(request, f"Schedule run #{run.pk} queued; it publishes the plan when it is done.", messages.INFO)

    @admin.display(description="gap %")
    def gap(self, run):
        return run.gap_percent

    @admin.display(description="Gantt chart")
    def gantt(self, run):
        if not run.pk or run.solver_status in ("", "infeasible"):
            return "—"
        return format_html('<a href="{}">Gantt chart</a>', reverse("admin:orders_schedulerun_gantt", args=[run.pk]))

    @admin.display(description="late work orders")
    def late_table(self, run):
        if not run.late_work_orders:
            return "none"
        rows = format_html_join(
            "",
            "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (reverse("admin:orders_workorder_change", args=[row["work_order"]]), row["number"], row["due_at"], row["planned_end"],
                 row["minutes_late"], row["weight"])
                for row in run.late_work_orders[:200]
            ),
        )
        return format_html(
            "<table><thead><tr><th>work order</th><th>due</th><th>planned end</th><th>minutes late</th><th>weight</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:run_id>/gantt/", view(self.gantt_view), name="orders_schedulerun_gantt"),
            *super().get_urls(),
        ]

    def gantt_view(self, request, run_id: int):
        """A run's plan as a Gantt chart, a row per work center (``?work_center=`` for one)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ScheduleRun, pk=run_id)
        chart = gantt_for_run(run=run, work_center=_work_center_param(request))
        published = {"done": "published", "stale": "not published: the orders changed meanwhile"}.get(run.status, run.status)
        return _gantt_page(self, request, chart=chart, run=run, title=f"Schedule run #{run.pk}", source=f"The plan this run computed ({published}).")


@admin.register(PlannedOperation)
class PlannedOperationAdmin(admin.ModelAdmin):
    """The current plan: released and running orders' operations at their planned times."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        chart = gantt_current(work_center=_work_center_param(request))
        latest = ScheduleRun.objects.filter(status="done").order_by("-pk").only("pk", "finished_at").first()
        source = (
            f"The current plan, last published by schedule run #{latest.pk} at {latest.finished_at:%Y-%m-%d %H:%M} UTC."
            if latest
            else "The current plan (no schedule run has published one yet)."
        )
        return _gantt_page(self, request, chart=chart, title="Schedule (Gantt chart)", source=source)
