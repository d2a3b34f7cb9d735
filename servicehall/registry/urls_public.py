from django.urls import path

from . import views_public

app_name = "registry_public"

urlpatterns = [
    path("names/", views_public.name_query, name="names"),
]
