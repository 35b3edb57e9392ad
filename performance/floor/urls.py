from django.urls import path

from performance.floor import views

app_name = "floor"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.FloorLoginView.as_view(), name="login"),
    path("logout/", views.FloorLogoutView.as_view(), name="logout"),
    path("work-centers/<int:pk>/", views.station, name="station"),
]
