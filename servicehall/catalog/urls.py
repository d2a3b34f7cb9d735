from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("power-list/", views.power_list, name="power_list"),
    path("department/<slug:code>/", views.department, name="department"),
    path("life-event/<slug:code>/", views.life_event, name="life_event"),
    path("item/<str:code>/", views.item, name="item"),
    path("item/<str:code>/qr.<str:kind>", views.item_qr, name="item_qr"),
]
