from rest_framework.routers import DefaultRouter

from inventory.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("items", views.ItemViewSet, basename="item")
router.register("locations", views.LocationViewSet, basename="location")

urlpatterns = router.urls
