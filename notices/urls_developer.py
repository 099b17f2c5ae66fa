"""The developer dashboard and its organisation's settings (mounted at ``/developer/``)."""

from django.urls import path

from . import views_developer

app_name = "developer"

urlpatterns = [
    path("", views_developer.home, name="home"),
    path("settings/", views_developer.settings_page, name="settings"),
    path("settings/webhook/", views_developer.webhook_set, name="webhook-set"),
    path("settings/webhook/rotate/", views_developer.webhook_rotate, name="webhook-rotate"),
    path("settings/digest/", views_developer.digest_set, name="digest-set"),
    path("invitations/<str:token>/", views_developer.invitation, name="invitation"),
]
