from django.urls import path

from . import views_staff as views

app_name = "cases_staff"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("supervision/", views.supervision, name="supervision"),
    path(
        "supervision/follow-ups/<int:pk>/close/",
        views.close_follow_up,
        name="close_follow_up",
    ),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/reveal/", views.reveal, name="reveal"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment,
        name="attachment",
    ),
    path("<int:pk>/<slug:action>/", views.act, name="act"),
]
