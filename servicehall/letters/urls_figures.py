"""/letters/figures/: the letters' reply figures (public) and the supervisors' overdue list."""

from django.urls import path

from . import views_figures

app_name = "letters_figures"
urlpatterns = [
    path("", views_figures.figures_page, name="index"),
    path("supervision/", views_figures.supervision_page, name="supervision"),
]
