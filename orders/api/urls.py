from rest_framework.routers import DefaultRouter

from orders.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("work-centers", views.WorkCenterViewSet, basename="work-center")

urlpatterns = router.urls
