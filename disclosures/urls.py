"""Disclosures' pages (namespace ``disclosures``), mounted at the site's root by portal/urls.py:
the developer's under ``/developer/disclosures/``, the registry's under
``/registry/<developer>/disclosures/`` (beside notices' ``/registry/<developer>/``)."""

from django.urls import path

from . import views

app_name = "disclosures"

urlpatterns = [
    path("developer/disclosures/", views.disclosure_list, name="list"),
    path("developer/disclosures/new/", views.disclosure_create, name="create"),
    path("developer/disclosures/<int:pk>/", views.disclosure_detail, name="detail"),
    path("developer/disclosures/<int:pk>/progress/", views.disclosure_progress, name="progress"),
    path(
        "developer/disclosures/<int:pk>/exclusions/",
        views.disclosure_exclusions,
        name="exclusions",
    ),
    path("developer/disclosures/<int:pk>/cancel/", views.disclosure_cancel_view, name="cancel"),
    path("registry/<slug:slug>/disclosures/", views.registry_list, name="registry-list"),
    path("registry/<slug:slug>/disclosures/new/", views.registry_record, name="registry-create"),
    path(
        "registry/<slug:slug>/disclosures/<int:pk>/",
        views.registry_detail,
        name="registry-detail",
    ),
    path(
        "registry/<slug:slug>/disclosures/<int:pk>/progress/",
        views.registry_progress,
        name="registry-progress",
    ),
    path(
        "registry/<slug:slug>/disclosures/<int:pk>/exclusions/",
        views.registry_exclusions,
        name="registry-exclusions",
    ),
    path(
        "registry/<slug:slug>/disclosures/<int:pk>/cancel/",
        views.registry_cancel,
        name="registry-cancel",
    ),
]
