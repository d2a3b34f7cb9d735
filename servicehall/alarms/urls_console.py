"""The dispatch console, mounted at /staff/alarms/ (alarms_console:...)."""

from django.urls import path

from . import views_console as views
from . import views_figures

app_name = "alarms_console"
urlpatterns = [
    path("", views.console, name="console"),
    path("live/", views.console_live, name="console_live"),
    path("new/", views.new_call, name="new_call"),
    path("figures/", views_figures.figures, name="figures"),
    path("units/<int:unit_pk>/status/", views.unit_status, name="unit_status"),
    path("sms/<int:pk>/", views.thread, name="thread"),
    path("sms/<int:pk>/live/", views.thread_live, name="thread_live"),
    path("sms/<int:pk>/<slug:action>/", views.thread_act, name="thread_act"),
    path("<str:number>/", views.incident, name="incident"),
    path("<str:number>/live/<slug:part>/", views.incident_live, name="incident_live"),
    path("<str:number>/reveal/", views.reveal, name="reveal"),
    path("<str:number>/<slug:action>/", views.act, name="act"),
]
