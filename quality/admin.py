"""The quality engineer's admin: plans with their characteristics (saved through the same service
as the API), inspections with their measurements (read-only), nonconformances with disposition
actions, SPC signals and the switching state per plan."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.utils import timezone

from mes.admin_signing import SignatureForm, signed_action
from mes.api.permissions import QUALITY, has_role
from mes.errors import ApplicationError
from quality import services
from quality.models import (
    Characteristic,
    Disposition,
    Inspection,
    InspectionPlan,
    Measurement,
    Nonconformance,
    NonconformanceEvent,
    SamplingState,
    SpcSignal,
)
from quality.services.plans import CHARACTERISTIC_FIELDS, PLAN_FIELDS


class _DryRun(Exception):
    pass


def _dry_run(call) -> None:
    """Run a service in a savepoint that is always rolled back; its refusals become form errors."""
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        return
    except ApplicationError as exc:
        raise ValidationError(f"{exc.field}: {exc.message}" if exc.field else exc.message, code=exc.code) from exc
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise ValidationError([f"{field}: {'; '.join(msgs)}" for field, msgs in exc.message_dict.items()]) from exc
        raise


def _rows(formset) -> list[dict]:
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE"):
            continue
        row = {name: data.get(name) for name in CHARACTERISTIC_FIELDS if name in data}
        if form.instance.pk:
            row["id"] = form.instance.pk
        rows.append(row)
    return rows


def _plan_data(instance: InspectionPlan) -> dict:
    return {name: getattr(instance, name) for name in PLAN_FIELDS}


class CharacteristicFormSet(BaseInlineFormSet):
    """Validates plan and characteristics together by a dry run of the plan service."""

    def clean(self):
        super().clean()
        if any(self.errors) or getattr(self.instance, "item_id", None) is None:
            return
        data = {**_plan_data(self.instance), "characteristics": _rows(self)}
        if self.instance.pk:
            _dry_run(lambda: services.inspection_plan_update(plan=self.instance, data=data))
        else:
            _dry_run(lambda: services.inspection_plan_create(data=data))


class CharacteristicInline(admin.TabularInline):
    model = Characteristic
    formset = CharacteristicFormSet
    fields = list(CHARACTERISTIC_FIELDS)
    extra = 0


class InspectionPlanForm(forms.ModelForm):
    aql = forms.DecimalField(
        max_digits=7,
        decimal_places=3,
        help_text="Acceptance quality limit, a preferred value of ISO 2859-1 (0.010, 0.015, … 1.0, 1.5, 2.5, … 1000).",
    )

    class Meta:
        model = InspectionPlan
        fields = "__all__"


@admin.register(InspectionPlan)
class InspectionPlanAdmin(admin.ModelAdmin):
    form = InspectionPlanForm
    list_display = ["name", "revision", "item", "trigger", "aql", "inspection_level", "hold_on_spc_violation", "is_active"]
    list_filter = ["trigger", "inspection_level", "is_active", "hold_on_spc_violation"]
    search_fields = ["name", "item__code", "item__name"]
    list_select_related = ["item"]
    autocomplete_fields = ["item"]
    inlines = [CharacteristicInline]

    def save_model(self, request, obj, form, change):
        pass  # saved with its characteristics in save_related

    def save_related(self, request, form, formsets, change):
        data = {name: form.cleaned_data[name] for name in PLAN_FIELDS if name in form.cleaned_data}
        data["characteristics"] = _rows(formsets[0])
        if change:
            saved = services.inspection_plan_update(plan=form.instance, data=data, user=request.user)
        else:
            saved = services.inspection_plan_create(data=data, user=request.user)
        form.instance.pk = saved.pk

    def construct_change_message(self, request, form, formsets, add=False):
        return super().construct_change_message(request, form, None, add)

    def delete_model(self, request, obj):
        services.inspection_plan_delete(plan=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for plan in queryset:
            services.inspection_plan_delete(plan=plan, user=request.user)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MeasurementInline(_ReadOnlyInline):
    model = Measurement
    fields = ["sample_index", "characteristic", "value", "passed", "in_spec", "recorded_by", "recorded_at"]
    readonly_fields = fields
    ordering = ["sample_index", "characteristic_id"]


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Inspection)
class InspectionAdmin(_ReadOnlyAdmin):
    list_display = [
        "id", "plan", "item", "source", "lot", "serial", "lot_size", "sample_size", "severity",
        "status", "disposition", "nonconforming_count", "created_at",
    ]
    list_filter = ["status", "disposition", "source", "severity"]
    search_fields = ["plan__name", "item__code", "lot__code", "serial__code", "source_document"]
    list_select_related = ["plan", "item", "lot", "serial"]
    date_hierarchy = "created_at"
    inlines = [MeasurementInline]


class NonconformanceEventInline(_ReadOnlyInline):
    model = NonconformanceEvent
    fields = ["occurred_at", "from_status", "to_status", "disposition", "note", "user"]
    readonly_fields = fields


class SignedNoteForm(SignatureForm):
    note = forms.CharField(required=False, max_length=1000, widget=forms.TextInput(attrs={"size": 80}))
    field_order = ["note", "signature_password", "signature_meaning"]


def _disposition_action(disposition: str):
    label = Disposition(disposition).label.lower()

    def run(modeladmin, request, queryset):
        if not has_role(request.user, QUALITY):
            modeladmin.message_user(request, "Only quality engineers disposition material.", messages.ERROR)
            return None
        return signed_action(
            modeladmin,
            request,
            queryset,
            form_class=SignedNoteForm,
            title=f"Disposition: {label}",
            intro=f"Each nonconformance below is dispositioned “{label}” under your electronic signature, "
            "and its material moved and its holds released as the disposition says.",
            submit="Sign and disposition",
            sign=lambda ncr, data: services.nonconformance_disposition(
                ncr=ncr,
                disposition=disposition,
                note=data["note"],
                user=request.user,
                signature_password=data["signature_password"],
                signature_meaning=data["signature_meaning"],
            ),
            done=f"nonconformance(s) dispositioned: {label}",
            initial={"note": "Dispositioned in the admin"},
        )

    run.__name__ = f"disposition_{disposition}"
    run.short_description = f"Disposition: {label} (signed)"
    return run


@admin.register(Nonconformance)
class NonconformanceAdmin(_ReadOnlyAdmin):
    list_display = ["number", "item", "lot", "serial", "quantity", "status", "disposition", "opened_at"]
    list_filter = ["status", "disposition"]
    search_fields = ["number", "item__code", "lot__code", "serial__code", "description"]
    list_select_related = ["item", "lot", "serial"]
    date_hierarchy = "opened_at"
    inlines = [NonconformanceEventInline]
    actions = [*(_disposition_action(value) for value in Disposition.values), "close_after_rework"]

    @admin.action(description="Close (rework done): release the holds (signed)")
    def close_after_rework(self, request, queryset):
        if not has_role(request.user, QUALITY):
            self.message_user(request, "Only quality engineers close nonconformances.", messages.ERROR)
            return None
        return signed_action(
            self,
            request,
            queryset,
            form_class=SignedNoteForm,
            title="Close after rework",
            intro="Each nonconformance below is closed under your electronic signature and its holds released.",
            submit="Sign and close",
            sign=lambda ncr, data: services.nonconformance_close(
                ncr=ncr,
                note=data["note"],
                user=request.user,
                signature_password=data["signature_password"],
                signature_meaning=data["signature_meaning"],
            ),
            done="nonconformance(s) closed",
            initial={"note": "Closed in the admin"},
        )


@admin.register(SpcSignal)
class SpcSignalAdmin(_ReadOnlyAdmin):
    list_display = ["id", "characteristic", "rule", "description", "point_index", "value", "handled", "created_at"]
    list_filter = ["rule", "handled"]
    list_select_related = ["characteristic"]
    actions = ["mark_handled"]

    @admin.action(description="Mark handled")
    def mark_handled(self, request, queryset):
        if not has_role(request.user, QUALITY):
            self.message_user(request, "Only quality engineers handle SPC signals.", messages.ERROR)
            return
        count = queryset.filter(handled=False).update(handled=True, handled_by=request.user, handled_at=timezone.now())
        self.message_user(request, f"{count} signal(s) marked handled.")


@admin.register(SamplingState)
class SamplingStateAdmin(_ReadOnlyAdmin):
    list_display = ["plan", "item", "severity", "recent_results", "switching_score", "discontinued", "lots_inspected", "updated_at"]
    list_filter = ["severity", "discontinued"]
    list_select_related = ["plan", "item"]
    actions = ["resume_sampling"]

    @admin.action(description="Resume sampling after corrective action (on tightened)")
    def resume_sampling(self, request, queryset):
        if not has_role(request.user, QUALITY):
            self.message_user(request, "Only quality engineers resume sampling.", messages.ERROR)
            return
        for state in queryset.select_related("plan"):
            try:
                services.sampling_resume(plan=state.plan, user=request.user, reason="Corrective action recorded in the admin")
            except ApplicationError as exc:
                self.message_user(request, f"{state.plan}: {exc.message}", messages.ERROR)
