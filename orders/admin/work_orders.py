"""The planner's work orders: drafts edited here, released, held and cancelled by admin actions
that call the same services as the API."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from mes.api.permissions import PLANNER, has_role
from mes.errors import ApplicationError
from orders import services
from orders.admin.common import dry_run
from orders.models import WorkOrder, WorkOrderEvent, WorkOrderMaterial, WorkOrderOperation, WorkOrderStatus

EDITABLE_FIELDS = ["number", "item", "quantity", "due_at", "priority", "bom", "routing", "release_time", "external_id", "notes"]


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OperationInline(_ReadOnlyInline):
    model = WorkOrderOperation
    fields = readonly_fields = [
        "sequence", "name", "work_center", "status", "setup_minutes", "run_minutes_per_unit",
        "planned_start", "planned_end", "actual_start", "actual_end", "quantity_good", "quantity_scrap",
    ]


class MaterialInline(_ReadOnlyInline):
    model = WorkOrderMaterial
    fields = readonly_fields = ["item", "operation_sequence", "quantity_required", "quantity_reserved", "quantity_issued", "shortage"]

    @admin.display(description="short")
    def shortage(self, obj):
        return obj.shortage


class EventInline(_ReadOnlyInline):
    model = WorkOrderEvent
    fields = readonly_fields = ["occurred_at", "from_status", "to_status", "user", "reason", "details"]
    verbose_name = "status change"


class WorkOrderForm(forms.ModelForm):
    number = forms.CharField(max_length=32, required=False, help_text="Generated (WO-000123) when left empty.")

    class Meta:
        model = WorkOrder
        fields = EDITABLE_FIELDS

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        values = {name: data.get(name) for name in EDITABLE_FIELDS}
        if self.instance.pk:
            dry_run(lambda: services.work_order_update(work_order=self.instance, data=values))
        else:
            dry_run(lambda: services.work_order_create(data=values))
        return data

    def _post_clean(self):
        # The service validates and saves the row; the form only checks field formats.
        pass


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    form = WorkOrderForm
    list_display = ["number", "item", "quantity", "status", "priority", "due_at", "released_at", "external_id"]
    list_filter = ["status", "priority", "due_at", "released_at"]
    search_fields = ["number", "external_id", "item__code", "item__name"]
    list_select_related = ["item"]
    autocomplete_fields = ["item"]
    date_hierarchy = "due_at"
    inlines = [OperationInline, MaterialInline, EventInline]
    actions = ["release_selected", "release_selected_allowing_shortage", "hold_selected", "resume_selected", "cancel_selected"]

    def get_inline_instances(self, request, obj=None):
        # Operations, materials and history exist from release on; a new draft has none.
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        base = ["status", "held_from", "released_at", "released_by", "created_at", "updated_at"]
        if obj is not None and obj.status != WorkOrderStatus.DRAFT:
            return [*EDITABLE_FIELDS, *base]
        return base

    def get_fields(self, request, obj=None):
        return [*EDITABLE_FIELDS, "status", "held_from", "released_at", "released_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data.get(name) for name in EDITABLE_FIELDS}
        if change:
            saved = services.work_order_update(work_order=obj, data=values, user=request.user)
        else:
            saved = services.work_order_create(data=values, user=request.user)
        obj.pk, obj.number = saved.pk, saved.number

    def save_related(self, request, form, formsets, change):
        pass  # the inlines are read-only

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.status == WorkOrderStatus.DRAFT)

    def delete_model(self, request, obj):
        services.work_order_delete(work_order=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for work_order in queryset:
            try:
                services.work_order_delete(work_order=work_order, user=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{work_order.number}: {exc.message}", messages.ERROR)

    # --- actions: the planner's transitions ---------------------------------------------------

    def has_planning_permission(self, request) -> bool:
        return has_role(request.user, PLANNER)

    def _require_planner(self, request) -> None:
        if not self.has_planning_permission(request):
            raise PermissionDenied

    def _release(self, request, queryset, *, allow_shortage: bool) -> None:
        self._require_planner(request)
        for work_order in queryset.order_by("pk"):
            try:
                result = services.work_order_release(work_order=work_order, user=request.user, allow_shortage=allow_shortage)
            except ApplicationError as exc:
                shortages = exc.extra.get("shortages") or []
                if shortages:
                    lines = "; ".join(f"{s['item_code']}: need {s['required']}, available {s['available']}" for s in shortages)
                    self.message_user(request, f"{work_order.number} not released, material short — {lines}.", messages.ERROR)
                else:
                    self.message_user(request, f"{work_order.number} not released: {exc.message}", messages.ERROR)
                continue
            if result.shortages:
                lines = "; ".join(f"{s.item_code}: need {s.required}, available {s.available}" for s in result.shortages)
                self.message_user(request, f"{work_order.number} released with shortages — {lines}.", messages.WARNING)
            else:
                self.message_user(request, f"{work_order.number} released; material reserved.", messages.SUCCESS)

    @admin.action(description="Release selected work orders", permissions=["planning"])
    def release_selected(self, request, queryset):
        self._release(request, queryset, allow_shortage=False)

    @admin.action(description="Release selected work orders, even with material shortages", permissions=["planning"])
    def release_selected_allowing_shortage(self, request, queryset):
        self._release(request, queryset, allow_shortage=True)

    def _transition(self, request, queryset, service, verb: str) -> None:
        self._require_planner(request)
        for work_order in queryset.order_by("pk"):
            try:
                service(work_order=work_order, user=request.user, reason=f"{verb} in the admin")
            except ApplicationError as exc:
                self.message_user(request, f"{work_order.number} not {verb}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{work_order.number} {verb}.", messages.SUCCESS)

    @admin.action(description="Put selected work orders on hold", permissions=["planning"])
    def hold_selected(self, request, queryset):
        self._transition(request, queryset, services.work_order_hold, "held")

    @admin.action(description="Resume selected work orders", permissions=["planning"])
    def resume_selected(self, request, queryset):
        self._transition(request, queryset, services.work_order_resume, "resumed")

    @admin.action(description="Cancel selected work orders (releases their reservations)", permissions=["planning"])
    def cancel_selected(self, request, queryset):
        self._transition(request, queryset, services.work_order_cancel, "cancelled")


@admin.register(WorkOrderOperation)
class WorkOrderOperationAdmin(admin.ModelAdmin):
    """Operations are created at release and changed by execution; read-only here."""

    list_display = ["work_order", "sequence", "name", "work_center", "status", "planned_start", "planned_end", "quantity_good", "quantity_scrap"]
    list_filter = ["status", "work_center"]
    search_fields = ["work_order__number", "name"]
    list_select_related = ["work_order", "work_center"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
