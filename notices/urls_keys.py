"""API keys: the organisation's page and the registry managers' page (mounted at the site
root; every path is spelled out here)."""

from django.urls import path  # noqa: F401

app_name = "apikeys"

urlpatterns = []
