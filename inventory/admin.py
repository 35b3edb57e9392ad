from django.contrib import admin

from inventory.models import Item, Location, UnitOfMeasure


@admin.register(UnitOfMeasure)
class UnitOfMeasureAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "decimals"]
    search_fields = ["code", "name"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "tracking", "unit", "external_id", "is_active"]
    list_filter = ["kind", "tracking", "unit", "is_active"]
    search_fields = ["code", "name", "external_id"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "kind", "purpose", "is_active"]
    list_filter = ["kind", "purpose", "is_active"]
    search_fields = ["code", "name", "external_id"]
    autocomplete_fields = ["parent"]
