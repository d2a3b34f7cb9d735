from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("display/large-type/", views.toggle_large_type, name="toggle_large_type"),
]
