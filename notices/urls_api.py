"""The notices part of the JSON API (mounted at ``/api/v1/``), authenticated by API key."""

from django.urls import path

from . import api

app_name = "notices-api"

urlpatterns = [
    path("notices/<int:pk>/answers", api.notice_answers, name="notice-answers"),
]
