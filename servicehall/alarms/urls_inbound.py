"""/sms/inbound/<gateway>/: inbound 12110 messages from HTTP SMS gateways."""

from django.urls import path

from . import views_inbound

app_name = "sms_inbound"

urlpatterns = [
    path("<slug:gateway>/", views_inbound.sms_inbound, name="callback"),
]
