"""At the office, mounted at /office/ (bookings_office:...): staff desks and screens by the
office's code, and the public display (no sign-in) with the JSON it polls."""

from django.urls import path

from . import views_office as views

app_name = "bookings_office"
urlpatterns = [
    path("", views.index, name="index"),
    path("figures/", views.figures, name="figures"),
    path("<slug:office_code>/checkin/", views.checkin, name="checkin"),
    path("<slug:office_code>/closures/", views.closures, name="closures"),
    path("<slug:office_code>/display/", views.display, name="display"),
    path("<slug:office_code>/display/calls.json", views.display_calls, name="display_calls"),
    path("<slug:office_code>/counters/<str:counter_code>/", views.counter, name="counter"),
    path(
        "<slug:office_code>/counters/<str:counter_code>/call/",
        views.call_next,
        name="call_next",
    ),
    path(
        "<slug:office_code>/counters/<str:counter_code>/tickets/<int:ticket_pk>/<slug:action>/",
        views.finish,
        name="finish",
    ),
]
