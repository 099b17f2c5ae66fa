from django.contrib import admin
from django.urls import include, path

from . import views
from .api import api, api_v2

# The API (portal/api.py): every router's endpoints are named ``api-v1:<url_name>``; the notices'
# keep their older names too (``notices-api:notice-list``…), resolved to the same views.
api_patterns, _, api_namespace = api.urls
api_v2_patterns, _, api_v2_namespace = api_v2.urls
notices_api_patterns = [p for p in api_patterns if (p.name or "").startswith("notice-")]

portal_patterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/staff/", views.staff_dashboard, name="staff-dashboard"),
    path("dashboard/registry/", views.registry_dashboard, name="registry-dashboard"),
    path("dashboard/admin/", views.admin_dashboard, name="admin-dashboard"),
    path("account/delete/", views.account_delete, name="account-delete"),
]

urlpatterns = [
    # The API first: pipelines call it most, and Django tries patterns in order (a path that
    # matches late pays for every pattern before it). Nothing else starts with "api/".
    path("api/v1/", include((api_patterns, "api"), namespace=api_namespace)),
    path("api/v1/", include((notices_api_patterns, "notices-api"))),
    path("api/v2/", include((api_v2_patterns, "api-v2"), namespace=api_v2_namespace)),
    path("", include((portal_patterns, "portal"))),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("notices.urls_answers")),
    path("", include("notices.urls_keys")),
    path("developer/registry-export/", include("works_registry.urls_export")),
    path("", include("disclosures.urls")),  # /developer/disclosures/, /registry/<slug>/disclosures/
    path("developer/", include("notices.urls_developer")),
    path("registry/", include("notices.urls")),
    path("found-in-datasets/", include("disclosures.urls_creator")),
    path("requests/", include("removals.urls")),
    path("review/disclosures/", include("disclosures.urls_staff")),
    path("review/", include("removals.urls_staff")),
    path("", include("works.urls")),
    path("", include("consent.urls")),
    path("", include("works_registry.urls")),
    path("django-admin/", admin.site.urls),
]
