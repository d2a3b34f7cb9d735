from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import path

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Placeholder until the accounts work lands.
    path("staff/", lambda r: render(r, "staff/base.html"), name="staff_home"),
]
