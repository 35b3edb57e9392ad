from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from mes.api.auth import ObtainTokenView
from mes.api.events import EventViewSet
from mes.api.history import AuditTrailView
from mes.api.webhooks import WebhookSubscriptionViewSet
from mes.health import health

platform_router = SimpleRouter(trailing_slash=True)
platform_router.register("events", EventViewSet, basename="event")
platform_router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")

# The shop floor's routes first: URLs are matched pattern by pattern, and a tablet's reports and
# operator actions are most of the traffic. (No two apps' patterns match the same path.)
api_v1 = [
    path("", include("orders.api.urls")),
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("history/<str:resource>/<int:id>/", AuditTrailView.as_view(), name="audit-trail"),
    path("", include(platform_router.urls)),
    path("", include("inventory.api.urls")),
    path("", include("quality.api.urls")),
    path("", include("performance.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("floor/", include("performance.floor.urls")),
]

handler400 = "mes.api.errors.handler400"
handler403 = "mes.api.errors.handler403"
handler404 = "mes.api.errors.handler404"
handler500 = "mes.api.errors.handler500"

admin.site.site_header = "Open MES"
admin.site.site_title = "Open MES"
admin.site.index_title = "Planning, inventory and quality"
