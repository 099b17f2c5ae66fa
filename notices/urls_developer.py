"""The developer dashboard and its organisation's settings (mounted at ``/developer/``)."""

from django.urls import path

from . import views_developer

app_name = "developer"

urlpatterns = [
    path("", views_developer.home, name="home"),
    path("settings/", views_developer.settings_page, name="settings"),
    path("invitations/<str:token>/", views_developer.invitation, name="invitation"),
]
