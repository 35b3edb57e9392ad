from django.urls import path
from rest_framework import renderers
from rest_framework.routers import SimpleRouter

from inventory.api import balance_views, hold_views, lot_views, move_views, trace_views, views

router = SimpleRouter()
# Trace first: scanners call it most, and URL resolution tries the patterns in order.
router.register("trace", trace_views.TraceViewSet, basename="trace")
router.register("items", views.ItemViewSet, basename="item")
router.register("locations", views.LocationViewSet, basename="location")
router.register("lots", lot_views.LotViewSet, basename="lot")
router.register("serials", lot_views.SerialNumberViewSet, basename="serial")
router.register("stock/receipts", move_views.ReceiptViewSet, basename="stock-receipt")
router.register("stock/transfers", move_views.TransferViewSet, basename="stock-transfer")
router.register("stock/adjustments", move_views.AdjustmentViewSet, basename="stock-adjustment")
router.register("stock/issues", move_views.IssueViewSet, basename="stock-issue")
router.register("stock/scraps", move_views.ScrapViewSet, basename="stock-scrap")
router.register("stock/moves", move_views.StockMoveViewSet, basename="stock-move")
router.register("stock/balances", balance_views.StockBalanceViewSet, basename="stock-balance")
router.register("stock/availability", balance_views.AvailabilityViewSet, basename="stock-availability")
router.register("reservations", balance_views.ReservationViewSet, basename="reservation")
router.register("holds", hold_views.HoldViewSet, basename="hold")
router.register("recalls", trace_views.RecallViewSet, basename="recall")

recall_report = trace_views.RecallViewSet.as_view(
    {"get": "report_csv"}, renderer_classes=[trace_views.CSVRenderer, renderers.JSONRenderer]
)

urlpatterns = [
    path("recalls/<int:pk>/report.csv", recall_report, name="recall-report-csv"),
    *router.urls,
]
