from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("consent/history/", views.history, name="history"),
]
