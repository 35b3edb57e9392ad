"""The planner's product definition: BOMs with their lines, routings with their operations, and
an item's structure (explosion and where-used) reachable from the item page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path

from inventory.models import Item
from mes.errors import ApplicationError
from orders import selectors, services
from orders.admin.common import dry_run, nested_rows
from orders.models import BillOfMaterials, BOMLine, Routing, RoutingOperation

REVISION_FIELDS = ["item", "revision", "status", "effective_from", "effective_to", "description", "external_id"]
LINE_FIELDS = ["position", "component", "quantity", "unit", "scrap_factor", "operation_sequence", "is_phantom"]
OPERATION_FIELDS = ["sequence", "name", "work_center", "setup_minutes", "run_minutes_per_unit"]


def _header(instance) -> dict:
    return {name: getattr(instance, name) for name in REVISION_FIELDS}


class _NestedServiceFormSet(BaseInlineFormSet):
    """Validates the whole revision (header + rows) by a dry run of the service that saves it."""

    data_key = ""
    row_fields: list[str] = []
    create_service = None
    update_service = None

    def clean(self):
        super().clean()
        if any(self.errors) or getattr(self.instance, "item_id", None) is None:
            return
        data = {**_header(self.instance), self.data_key: nested_rows(self, self.row_fields)}
        if self.instance.pk:
            dry_run(lambda: type(self).update_service(self.instance, data=data))
        else:
            dry_run(lambda: type(self).create_service(data=data))


class BOMLineFormSet(_NestedServiceFormSet):
    data_key = "lines"
    row_fields = LINE_FIELDS
    create_service = staticmethod(services.bom_create)
    update_service = staticmethod(lambda bom, **kw: services.bom_update(bom=bom, **kw))


class RoutingOperationFormSet(_NestedServiceFormSet):
    data_key = "operations"
    row_fields = OPERATION_FIELDS
    create_service = staticmethod(services.routing_create)
    update_service = staticmethod(lambda routing, **kw: services.routing_update(routing=routing, **kw))


class BOMLineInline(admin.TabularInline):
    model = BOMLine
    formset = BOMLineFormSet
    fields = LINE_FIELDS
    autocomplete_fields = ["component"]
    extra = 0


class RoutingOperationInline(admin.TabularInline):
    model = RoutingOperation
    formset = RoutingOperationFormSet
    fields = OPERATION_FIELDS
    extra = 0


class _RevisionAdmin(admin.ModelAdmin):
    """Saves header and rows together through the service (the same one the API uses)."""

    list_display = ["item", "revision", "status", "effective_from", "effective_to", "external_id", "updated_at"]
    list_filter = ["status"]
    search_fields = ["item__code", "item__name", "revision", "external_id"]
    list_select_related = ["item"]
    autocomplete_fields = ["item"]
    data_key = ""
    row_fields: list[str] = []

    def save_model(self, request, obj, form, change):
        pass  # saved with its rows in save_related

    def save_related(self, request, form, formsets, change):
        data = {name: form.cleaned_data[name] for name in REVISION_FIELDS if name in form.cleaned_data}
        data[self.data_key] = nested_rows(formsets[0], self.row_fields)
        saved = self.save_service(form.instance if change else None, data=data, user=request.user)
        form.instance.pk = saved.pk

    def construct_change_message(self, request, form, formsets, add=False):
        return super().construct_change_message(request, form, None, add)


@admin.register(BillOfMaterials)
class BillOfMaterialsAdmin(_RevisionAdmin):
    inlines = [BOMLineInline]
    data_key = "lines"
    row_fields = LINE_FIELDS

    @staticmethod
    def save_service(bom, *, data, user):
        if bom is None:
            return services.bom_create(data=data, user=user)
        return services.bom_update(bom=bom, data=data, user=user)

    def get_urls(self):
        view = self.admin_site.admin_view(self.item_structure_view)
        return [path("item/<int:item_id>/structure/", view, name="orders_item_structure"), *super().get_urls()]

    def item_structure_view(self, request, item_id: int):
        """Read-only: the item's effective BOM exploded for a quantity, and where it is used."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        item = get_object_or_404(Item.objects.select_related("unit"), pk=item_id)
        try:
            quantity = Decimal(request.GET.get("quantity") or "1")
            if quantity <= 0:
                raise InvalidOperation
        except InvalidOperation:
            quantity = Decimal("1")
        bom = selectors.effective_bom(item=item)
        explosion, error = None, None
        if bom is not None:
            try:
                explosion = selectors.explode_bom(bom=bom, quantity=quantity)
            except ApplicationError as exc:
                error = exc.message
        context = {
            **self.admin_site.each_context(request),
            "title": f"Structure of {item.code}",
            "item": item,
            "bom": bom,
            "quantity": quantity,
            "explosion": explosion,
            "error": error,
            "where_used": selectors.where_used(item=item),
            "revisions": BillOfMaterials.objects.filter(item=item).order_by("revision"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orders/item_structure.html", context)


@admin.register(Routing)
class RoutingAdmin(_RevisionAdmin):
    inlines = [RoutingOperationInline]
    data_key = "operations"
    row_fields = OPERATION_FIELDS

    @staticmethod
    def save_service(routing, *, data, user):
        if routing is None:
            return services.routing_create(data=data, user=user)
        return services.routing_update(routing=routing, data=data, user=user)
