"""The letters workbench, mounted at /staff/letters/ (letters_staff:...).

Letters are addressed by their public number (XF2026112600001); the fixed paths come first.
"""

from django.urls import path

from . import views_staff as views

app_name = "letters_staff"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("hotline/", views.hotline, name="hotline"),
    path("hotline/entered/", views.entered, name="entered"),
    path("hotline/entered/<str:number>/", views.entered_detail, name="entered_detail"),
    path("import/", views.import_letters, name="import"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/reveal/", views.reveal, name="reveal"),
    path(
        "<str:number>/attachments/<int:attachment_pk>/",
        views.attachment,
        name="attachment",
    ),
    path("<str:number>/<slug:action>/", views.act, name="act"),
]
