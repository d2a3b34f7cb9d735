from django.urls import path

from . import views

app_name = "notify"

urlpatterns = [
    path("receipts/sms/", views.sms_receipt, name="sms_receipt"),
]
