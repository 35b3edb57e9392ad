from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.api import execution_views, scheduling_views, views

# Plain routes (no ".json" suffix twins), the shop floor's first: URLs are matched pattern by
# pattern, and a tablet's reports and operator actions are most of the traffic.
router = SimpleRouter()
router.register("operations", execution_views.OperationExecutionViewSet, basename="operation-execution")
router.register("work-centers", execution_views.DispatchListViewSet, basename="work-center-dispatch")
router.register("work-centers", views.WorkCenterViewSet, basename="work-center")
router.register("calendars", views.CalendarViewSet, basename="calendar")
router.register("boms", views.BOMViewSet, basename="bom")
router.register("routings", views.RoutingViewSet, basename="routing")
router.register("work-orders", views.WorkOrderViewSet, basename="work-order")
router.register("operations", views.OperationViewSet, basename="operation")
router.register("production-reports", execution_views.ProductionReportViewSet, basename="production-report")
router.register("downtime", execution_views.DowntimeViewSet, basename="downtime")
router.register("scrap-reasons", execution_views.ScrapReasonViewSet, basename="scrap-reason")
router.register("downtime-reasons", execution_views.DowntimeReasonViewSet, basename="downtime-reason")
router.register("schedule-runs", scheduling_views.ScheduleRunViewSet, basename="schedule-run")

urlpatterns = [
    path("items/<int:pk>/where-used/", views.ItemWhereUsedView.as_view(), name="item-where-used"),
    *router.urls,
]
