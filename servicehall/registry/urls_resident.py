from django.urls import path

from . import views_resident as views

app_name = "registry_resident"
urlpatterns = [
    path("", views.my_household, name="household"),
]
