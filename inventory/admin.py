from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm

from inventory import services
from inventory.models import (
    GenealogyLink,
    Hold,
    Item,
    Location,
    Lot,
    RecallJob,
    Reservation,
    SerialNumber,
    StockBalance,
    StockMove,
    UnitOfMeasure,
)
from mes.admin_signing import SignatureForm, signed_action
from mes.errors import ApplicationError


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


class ReasonActionForm(ActionForm):
    reason = forms.CharField(required=False, max_length=500, help_text="Why (holds, releases, recalls).")


class HoldReleaseForm(SignatureForm):
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 80}), help_text="Why the material is free again.")
    field_order = ["reason", "signature_password", "signature_meaning"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger-like data: written by the services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _run(modeladmin, request, rows, call, done: str) -> None:
    """Call a service per selected row; report what worked and each refusal with its reason."""
    reason = request.POST.get("reason", "").strip()
    ok = 0
    for row in rows:
        try:
            call(row, reason)
            ok += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{row}: {exc.message}", level=messages.ERROR)
    if ok:
        modeladmin.message_user(request, f"{ok} {done}.", level=messages.SUCCESS)


class HoldableAdmin(ReadOnlyAdmin):
    action_form = ReasonActionForm
    actions = ["place_hold", "start_recall"]
    kind = "lot"

    @admin.action(description="Place a quality hold (give the reason)")
    def place_hold(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda row, reason: services.place_hold(**{self.kind: row}, reason=reason, user=request.user),
            "hold(s) placed",
        )

    @admin.action(description="Start a recall: trace forward to every affected product (give the reason)")
    def start_recall(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda row, reason: services.recall_start(**{self.kind: row}, reason=reason, user=request.user),
            "recall(s) started; see Recalls",
        )


@admin.register(Lot)
class LotAdmin(HoldableAdmin):
    list_display = ["code", "item", "status", "expires_on", "supplier_lot", "created_at"]
    list_filter = ["status", "item__tracking", ("expires_on", admin.DateFieldListFilter)]
    search_fields = ["code", "item__code", "supplier_lot"]
    list_select_related = ["item"]
    kind = "lot"


@admin.register(SerialNumber)
class SerialNumberAdmin(HoldableAdmin):
    list_display = ["code", "item", "status", "current_location", "lot", "created_at"]
    list_filter = ["status", "current_location"]
    search_fields = ["code", "item__code", "lot__code"]
    list_select_related = ["item", "current_location", "lot"]
    show_full_result_count = False
    kind = "serial"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "lot", "serial", "reason", "status", "placed_by", "placed_at", "released_by", "released_at", "source_type", "source_id"]
    list_filter = ["status", "source_type"]
    search_fields = ["lot__code", "serial__code", "reason"]
    list_select_related = ["lot", "serial", "placed_by", "released_by"]
    action_form = ReasonActionForm
    actions = ["release"]

    @admin.action(description="Release the hold (signed: asks for the reason and your password)")
    def release(self, request, queryset):
        return signed_action(
            self,
            request,
            queryset.select_related("lot", "serial"),
            form_class=HoldReleaseForm,
            title="Release holds",
            intro="Each hold below is released under your electronic signature; its lot or serial can be used "
            "again once no other hold is active on it.",
            submit="Sign and release",
            sign=lambda hold, data: services.release_hold(
                hold=hold,
                reason=data["reason"],
                user=request.user,
                signature_password=data["signature_password"],
                signature_meaning=data["signature_meaning"],
            ),
            done="hold(s) released",
            initial={"reason": request.POST.get("reason", "")},
        )


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "kind", "item", "quantity", "from_location", "to_location", "lot", "serial", "reason", "reference", "user", "reverses", "work_order_id"]
    list_filter = ["kind", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["item__code", "lot__code", "serial__code", "reference", "reason"]
    list_select_related = ["item", "from_location", "to_location", "lot", "serial", "user", "reverses"]
    show_full_result_count = False
    date_hierarchy = "created_at"


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    list_display = ["item", "location", "lot", "quantity", "reserved", "updated_at"]
    list_filter = ["location"]
    search_fields = ["item__code", "lot__code", "location__code"]
    list_select_related = ["item", "location", "lot"]


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["id", "item", "lot", "location", "quantity", "quantity_consumed", "quantity_released", "status", "demand_type", "demand_id", "created_at"]
    list_filter = ["status", "demand_type"]
    search_fields = ["item__code", "=demand_id"]
    list_select_related = ["item", "lot", "location"]
    actions = ["release"]

    @admin.action(description="Release what is left of the reservation")
    def release(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda reservation, _reason: services.release_reservation(reservation=reservation, user=request.user),
            "reservation(s) released",
        )


@admin.register(GenealogyLink)
class GenealogyLinkAdmin(ReadOnlyAdmin):
    list_display = ["id", "consumed_lot", "consumed_serial", "quantity", "produced_lot", "produced_serial", "work_order_id", "operation_id", "created_at"]
    list_select_related = ["consumed_lot", "consumed_serial", "produced_lot", "produced_serial"]
    search_fields = ["=work_order_id", "=operation_id"]
    show_full_result_count = False


@admin.register(RecallJob)
class RecallJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "lot", "serial", "reason", "status", "progress", "affected_count", "holds_placed", "started_by", "created_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["lot", "serial", "started_by"]
    exclude = ["report"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("report")
