from django.urls import path

from .views import preferences

urlpatterns = [
    path("consent/history/", preferences.history, name="history"),
]
