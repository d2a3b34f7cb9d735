from django.http import HttpResponse
from django.urls import path

app_name = "catalog"
urlpatterns = [
    path("", lambda r: HttpResponse(""), name="index"),
    path("power-list/", lambda r: HttpResponse(""), name="power_list"),
]
