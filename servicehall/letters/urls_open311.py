"""Open311 GeoReport v2, mounted at /open311/ (views: open311_views.py). The format is the
path's suffix; anything else under /open311/ is answered with the spec's 404 error."""

from django.urls import re_path

from . import open311_views as views

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^v2/services" + FMT, views.services, name="services"),
    re_path(
        r"^v2/services/(?P<service_code>[^/]+)" + FMT,
        views.service_definition,
        name="service_definition",
    ),
    re_path(r"^v2/requests" + FMT, views.requests, name="requests"),
    re_path(
        r"^v2/requests/(?P<service_request_id>[^/]+)" + FMT,
        views.service_request,
        name="request",
    ),
    re_path(r"^v2/tokens/(?P<token>[^/]+)" + FMT, views.token, name="token"),
    re_path(r"^(?P<path>.*)$", views.not_found, name="not_found"),
]
