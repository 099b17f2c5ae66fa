from django.urls import path

from . import views

app_name = "notices"

urlpatterns = [
    path("", views.developer_list, name="developer-list"),
    path("<slug:slug>/", views.developer_detail, name="developer-detail"),
]
