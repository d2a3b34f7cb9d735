"""Cash escorts, mounted at /escorts/: requesters' pages, the duty station's pages under
station/, the figures for supervisors under figures/."""

from django.urls import path

from . import views_requester as requester
from . import views_station as station

app_name = "escorts"
urlpatterns = [
    path("", requester.index, name="index"),
    path("new/", requester.new, name="new"),
    path("mine/", requester.mine, name="mine"),
    path("mine/<str:number>/", requester.mine_detail, name="mine_detail"),
    path("mine/<str:number>/cancel/", requester.cancel, name="cancel"),
    path("station/", station.queue, name="queue"),
    path("station/<str:number>/", station.detail, name="station_detail"),
    path("station/<str:number>/reveal/", station.reveal, name="reveal"),
    path("station/<str:number>/<slug:action>/", station.act, name="act"),
    path("figures/", station.figures, name="figures"),
    path("figures.json", station.figures_json, name="figures_json"),
]
