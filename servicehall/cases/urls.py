from django.urls import path

from . import views_citizen as views

app_name = "cases"
urlpatterns = [
    path("", views.my_cases, name="mine"),
    path("apply/<str:code>/", views.apply, name="apply"),
    path("batch/<str:code>/", views.batch, name="batch"),
    path("batch-template/", views.batch_template, name="batch_template"),
    path("progress/", views.progress, name="progress"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("<int:pk>/receipt/qr.svg", views.receipt_qr, name="receipt_qr"),
    path("<int:pk>/resubmit/", views.resubmit, name="resubmit"),
    path("<int:pk>/rate/", views.rate, name="rate"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
