from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from config.api import api

# The Django admin is staff-only, so it demands the same second factor as staff pages.
admin.site.__class__ = OTPAdminSite

urlpatterns = [
    # The API first: a booking rush is thousands of API requests a second, and Django tries
    # the patterns in order (no other prefix here starts with "api/").
    path("api/", api.urls),
    path("", include("servicehall.core.urls")),
    path("accounts/", include("servicehall.accounts.urls")),
    path("services/", include("servicehall.catalog.urls")),
    path("notify/", include("servicehall.notify.urls")),
    path("sms/inbound/", include("servicehall.alarms.urls_inbound")),
    path("cases/", include("servicehall.cases.urls")),
    path("staff/cases/", include("servicehall.cases.urls_staff")),
    path("registry/", include("servicehall.registry.urls_public")),
    path("staff/registry/", include("servicehall.registry.urls_staff")),
    path("hotel/", include("servicehall.registry.urls_hotel")),
    path("my/registry/", include("servicehall.registry.urls_resident")),
    path("letters/figures/", include("servicehall.letters.urls_figures")),
    path("letters/", include("servicehall.letters.urls")),
    path("staff/letters/", include("servicehall.letters.urls_staff")),
    path("open311/", include("servicehall.letters.urls_open311")),
    path("bookings/", include("servicehall.bookings.urls")),
    path("office/", include("servicehall.bookings.urls_office")),
    path("escorts/", include("servicehall.escorts.urls")),
    path("staff/alarms/", include("servicehall.alarms.urls_console")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
]
