"""Booking pages (mounted at /bookings/): citizens online, phone operators, enterprise
liaisons. The office's own pages (check-in, calling, display) are in urls_office."""

from django.urls import path

from . import views_citizen as citizen
from . import views_liaison as liaison
from . import views_operator as operator

app_name = "bookings"
urlpatterns = [
    path("", citizen.index, name="index"),
    path("office/<slug:code>/", citizen.office, name="office"),
    path("office/<slug:code>/<str:item_code>/", citizen.day, name="day"),
    path("slot/<int:slot_pk>/", citizen.book, name="book"),
    path("mine/", citizen.mine, name="mine"),
    path("mine/<str:code>/", citizen.detail, name="detail"),
    path("mine/<str:code>/qr.png", citizen.qr, name="qr"),
    path("mine/<str:code>/cancel/", citizen.cancel, name="cancel"),
    path("mine/<str:code>/rebook/", citizen.rebook, name="rebook"),
    path("operator/", operator.desk, name="operator"),
    path("operator/book/", operator.operator_book, name="operator_book"),
    path("operator/bookings/", operator.made, name="operator_made"),
    path("operator/bookings/<str:code>/", operator.booking, name="operator_booking"),
    path("operator/bookings/<str:code>/cancel/", operator.cancel, name="operator_cancel"),
    path("enterprise/", liaison.desk, name="liaison"),
    path("enterprise/book/", liaison.liaison_book, name="liaison_book"),
    path("enterprise/<str:code>/cancel/", liaison.cancel, name="liaison_cancel"),
]
