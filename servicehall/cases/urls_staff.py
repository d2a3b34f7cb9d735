from django.urls import path

app_name = "cases_staff"
urlpatterns: list = []
