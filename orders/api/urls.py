from django.urls import path
from rest_framework.routers import DefaultRouter

from orders.api import execution_views, scheduling_views, views

router = DefaultRouter()
router.include_root_view = False
router.register("work-centers", views.WorkCenterViewSet, basename="work-center")
router.register("calendars", views.CalendarViewSet, basename="calendar")
router.register("boms", views.BOMViewSet, basename="bom")
router.register("routings", views.RoutingViewSet, basename="routing")
router.register("work-orders", views.WorkOrderViewSet, basename="work-order")
router.register("operations", views.OperationViewSet, basename="operation")
router.register("operations", execution_views.OperationExecutionViewSet, basename="operation-execution")
router.register("work-centers", execution_views.DispatchListViewSet, basename="work-center-dispatch")
router.register("production-reports", execution_views.ProductionReportViewSet, basename="production-report")
router.register("downtime", execution_views.DowntimeViewSet, basename="downtime")
router.register("scrap-reasons", execution_views.ScrapReasonViewSet, basename="scrap-reason")
router.register("downtime-reasons", execution_views.DowntimeReasonViewSet, basename="downtime-reason")
router.register("schedule-runs", scheduling_views.ScheduleRunViewSet, basename="schedule-run")

urlpatterns = [
    path("items/<int:pk>/where-used/", views.ItemWhereUsedView.as_view(), name="item-where-used"),
    *router.urls,
]
