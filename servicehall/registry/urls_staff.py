from django.urls import path

from . import views_staff as views

app_name = "registry_staff"
urlpatterns = [
    path("", views.search, name="search"),
    path("households/<int:pk>/", views.household, name="household"),
    path("proofs/", views.proof_queue, name="proofs"),
    path("proofs/<int:pk>/", views.proof_detail, name="proof"),
    path("proofs/<int:pk>/<slug:decision>/", views.proof_decide, name="decide"),
]
