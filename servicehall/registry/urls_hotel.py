from django.urls import path

from . import views_hotel as views

app_name = "registry_hotel"
urlpatterns = [
    path("", views.home, name="home"),
    path("proofs/new/", views.new_proof, name="new_proof"),
    path("proofs/<int:pk>/", views.proof, name="proof"),
    path("proofs/<int:pk>/qr.svg", views.proof_qr, name="proof_qr"),
    path("verify/", views.verify, name="verify"),
]
