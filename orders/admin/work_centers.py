from django.contrib import admin

from orders import services
from orders.admin.common import nested_rows
from orders.models import Calendar, CalendarException, Shift, WorkCenter


@admin.register(WorkCenter)
class WorkCenterAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "capacity", "calendar", "allow_split_across_breaks", "cost_per_hour", "is_active"]
    list_filter = ["is_active", "calendar"]
    search_fields = ["code", "name", "external_id"]
    list_select_related = ["calendar"]


class ShiftInline(admin.TabularInline):
    model = Shift
    extra = 0
    fields = ["weekday", "start", "end", "name"]


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    extra = 0
    fields = ["kind", "date", "end_date", "starts_at", "ends_at", "reason"]


SHIFT_FIELDS = ["weekday", "start", "end", "name"]
EXCEPTION_FIELDS = ["kind", "date", "end_date", "starts_at", "ends_at", "reason"]


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    """Calendars are saved with their shifts and exceptions through the calendar services."""

    list_display = ["code", "name", "timezone"]
    search_fields = ["code", "name"]
    inlines = [ShiftInline, CalendarExceptionInline]

    def save_model(self, request, obj, form, change):
        pass  # saved with its shifts and exceptions in save_related

    def save_related(self, request, form, formsets, change):
        data = {name: form.cleaned_data[name] for name in ("code", "name", "timezone", "external_id") if name in form.cleaned_data}
        for formset in formsets:
            if formset.model is Shift:
                data["shifts"] = nested_rows(formset, SHIFT_FIELDS)
            elif formset.model is CalendarException:
                data["exceptions"] = nested_rows(formset, EXCEPTION_FIELDS)
        if change:
            calendar = services.calendar_update(calendar=form.instance, data=data, user=request.user)
        else:
            calendar = services.calendar_create(data=data, user=request.user)
        form.instance.pk = calendar.pk

    def construct_change_message(self, request, form, formsets, add=False):
        return super().construct_change_message(request, form, None, add)
