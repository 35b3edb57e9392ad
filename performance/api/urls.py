from django.urls import path

from performance.api import views

urlpatterns = [
    path("oee/", views.OEEView.as_view(), name="oee"),
    path("kpis/", views.KPIView.as_view(), name="kpis"),
]

for kind in ("lot", "serial", "work-order"):
    for fmt, view in views.LABEL_VIEWS.items():
        urlpatterns.append(path(f"labels/{kind}/<int:pk>.{fmt}", view.as_view(kind=kind), name=f"label-{kind}-{fmt}"))
