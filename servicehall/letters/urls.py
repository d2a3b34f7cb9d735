"""Pages for writers and the public (mounted at /letters/); staff pages are in urls_staff."""

from django.urls import path

from . import views_citizen as views

app_name = "letters"
urlpatterns = [
    path("", views.index, name="index"),
    path("write/<str:channel>/", views.write, name="write"),
    path("report/", views.report, name="report"),
    path("follow-up/", views.follow_up, name="follow_up"),
    path("follow-up/end/", views.follow_up_end, name="follow_up_end"),
    path("follow-up/<str:action>/", views.follow_up_act, name="follow_up_act"),
    path("mine/", views.mine, name="mine"),
    path("mine/<str:number>/", views.mine_detail, name="mine_detail"),
    path("mine/<str:number>/receipt/", views.receipt, name="receipt"),
    path("mine/<str:number>/<str:action>/", views.mine_act, name="mine_act"),
    path("answered/", views.answered, name="answered"),
    path("answered/<str:number>/", views.answered_detail, name="answered_detail"),
]
