from rest_framework.routers import SimpleRouter

from quality.api import views

router = SimpleRouter()
router.register("inspection-plans", views.InspectionPlanViewSet, basename="inspection-plan")
router.register("inspections", views.InspectionViewSet, basename="inspection")
router.register("nonconformances", views.NonconformanceViewSet, basename="nonconformance")
router.register("spc", views.SpcViewSet, basename="spc")

urlpatterns = router.urls
