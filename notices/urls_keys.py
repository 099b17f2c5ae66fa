"""API keys: the organisation's page and the registry managers' page (mounted at the site
root; every path is spelled out here)."""

from django.urls import path

from . import views_keys

app_name = "apikeys"

urlpatterns = [
    path("developer/keys/", views_keys.developer_keys, name="developer-keys"),
    path(
        "developer/keys/<int:pk>/revoke/",
        views_keys.developer_key_revoke,
        name="developer-key-revoke",
    ),
    path("registry/<slug:slug>/keys/", views_keys.staff_keys, name="staff-keys"),
    path(
        "registry/<slug:slug>/keys/<int:pk>/revoke/",
        views_keys.staff_key_revoke,
        name="staff-key-revoke",
    ),
]
