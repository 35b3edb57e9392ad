from django.urls import path
from rest_framework.routers import DefaultRouter

from orders.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("work-centers", views.WorkCenterViewSet, basename="work-center")
router.register("calendars", views.CalendarViewSet, basename="calendar")
router.register("boms", views.BOMViewSet, basename="bom")
router.register("routings", views.RoutingViewSet, basename="routing")
router.register("work-orders", views.WorkOrderViewSet, basename="work-order")
router.register("operations", views.OperationViewSet, basename="operation")

urlpatterns = [
    path("items/<int:pk>/where-used/", views.ItemWhereUsedView.as_view(), name="item-where-used"),
    *router.urls,
]
