"""Answers to notices: the signed link (no account), the developer's notices, and staff's
notice pages (mounted at the site root; every path is spelled out here)."""

from django.urls import path  # noqa: F401

app_name = "answers"

urlpatterns = []
