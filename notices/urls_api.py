"""The notices part of the JSON API (mounted at ``/api/v1/``), authenticated by API key."""

from django.urls import path  # noqa: F401

app_name = "notices-api"

urlpatterns = []
