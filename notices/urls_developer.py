"""The developer dashboard and its organisation's settings (mounted at ``/developer/``)."""

from django.urls import path  # noqa: F401

app_name = "developer"

urlpatterns = []
