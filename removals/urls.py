from django.urls import path

from . import views

app_name = "removals"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("<int:pk>/", views.request_detail, name="detail"),
]
