from django.contrib import admin

from orders.models import WorkCenter


@admin.register(WorkCenter)
class WorkCenterAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "capacity", "cost_per_hour", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "external_id"]
