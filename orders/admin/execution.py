"""Shop-floor records in the admin: reason codes are maintained here; production reports,
operation history and downtime are read-only (they are written by the operators' services);
a supervisor (planner) reverses a wrong report with an admin action that asks why."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from mes.api.permissions import PLANNER, has_role
from mes.errors import ApplicationError
from orders import services
from orders.models import (
    DowntimeEvent,
    DowntimeReason,
    OperationEvent,
    ProductionReport,
    ReportConsumption,
    ReportGenealogy,
    ReportOutput,
    ScrapReason,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to whoever may view the model; nobody adds, changes or deletes here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScrapReason)
class ScrapReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


@admin.register(DowntimeReason)
class DowntimeReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_planned", "is_active"]
    list_filter = ["is_planned", "is_active"]
    search_fields = ["code", "name"]


class ConsumptionInline(_ReadOnlyInline):
    model = ReportConsumption
    fields = readonly_fields = ["item", "lot", "serial", "location", "quantity", "backflushed", "move"]
    verbose_name_plural = "consumed"


class OutputInline(_ReadOnlyInline):
    model = ReportOutput
    fields = readonly_fields = ["action", "item", "lot", "serial", "location", "quantity", "move"]
    verbose_name_plural = "produced"


class GenealogyInline(_ReadOnlyInline):
    model = ReportGenealogy
    fk_name = "report"
    fields = readonly_fields = ["link", "reversed_at", "reversed_by"]
    verbose_name_plural = "genealogy links"


class ReverseForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 80}), help_text="Why the reports were wrong.")


@admin.register(ProductionReport)
class ProductionReportAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "kind", "work_order", "operation_sequence", "quantity_good", "quantity_scrap", "scrap_reason",
        "labor_minutes", "user", "created_at", "recorded_at", "reverses",
    ]
    list_filter = ["kind", "created_at", "scrap_reason", "operation__work_center"]
    search_fields = ["work_order__number", "user__username", "outputs__serial__code", "consumed__lot__code"]
    list_select_related = ["work_order", "operation", "scrap_reason", "user", "reverses"]
    date_hierarchy = "created_at"
    inlines = [ConsumptionInline, OutputInline, GenealogyInline]
    actions = ["reverse_selected"]

    @admin.display(description="operation", ordering="operation__sequence")
    def operation_sequence(self, obj):
        return obj.operation.sequence

    def has_supervision_permission(self, request) -> bool:
        return has_role(request.user, PLANNER)

    @admin.action(description="Reverse selected reports (asks for a reason)", permissions=["supervision"])
    def reverse_selected(self, request, queryset):
        if not self.has_supervision_permission(request):
            raise PermissionDenied
        form = ReverseForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Reverse production reports",
                "reports": queryset.select_related("work_order", "operation"),
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/orders/productionreport/reverse.html", context)
        for report in queryset.order_by("-pk"):  # the latest first: later output is undone before what it used
            try:
                services.production_report_reverse(report=report, user=request.user, reason=form.cleaned_data["reason"])
            except ApplicationError as exc:
                self.message_user(request, f"Report #{report.pk} not reversed: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"Report #{report.pk} reversed.", messages.SUCCESS)
        return None


@admin.register(OperationEvent)
class OperationEventAdmin(ReadOnlyAdmin):
    list_display = ["operation", "action", "from_status", "to_status", "user", "occurred_at", "recorded_at", "reason"]
    list_filter = ["action", "occurred_at", "operation__work_center"]
    search_fields = ["operation__work_order__number", "user__username", "reason"]
    list_select_related = ["operation", "user"]
    date_hierarchy = "occurred_at"


@admin.register(DowntimeEvent)
class DowntimeEventAdmin(ReadOnlyAdmin):
    list_display = ["work_center", "reason", "started_at", "ended_at", "duration_minutes", "opened_by", "closed_by", "note"]
    list_filter = ["work_center", "reason", "reason__is_planned", "started_at"]
    search_fields = ["work_center__code", "reason__code", "note"]
    list_select_related = ["work_center", "reason", "opened_by", "closed_by"]
    date_hierarchy = "started_at"
