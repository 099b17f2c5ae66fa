"""The creator's AI choices, credit, licence grants, mandates and history; guild staff's pages
for acting under a mandate. Names are in the ``consent`` namespace."""

from django.urls import path

from .views import grants, history, mandates, preferences

urlpatterns = [
    path("consent/", preferences.preferences, name="preferences"),
    path("consent/works/<str:public_id>/", preferences.work, name="work"),
    path("consent/bulk/", preferences.bulk, name="bulk"),
    path("consent/grants/", grants.grants, name="grants"),
    path("consent/grants/new/", grants.grant_create, name="grant-create"),
    path("consent/grants/<int:pk>/revoke/", grants.grant_revoke, name="grant-revoke"),
    path("consent/history/", history.history, name="history"),
    path("consent/history.csv", history.history_csv, name="history-csv"),
    path("consent/history.json", history.history_json, name="history-json"),
    path("consent/mandates/", mandates.mandates, name="mandates"),
    path("consent/mandates/<slug:slug>/give/", mandates.mandate_grant, name="mandate-grant"),
    path("consent/mandates/<int:pk>/revoke/", mandates.mandate_revoke, name="mandate-revoke"),
    # Guild staff, acting for a member under the mandate they gave their guild.
    path("consent/members/", preferences.members, name="members"),
    path("consent/members/<uuid:ref>/", preferences.member_preferences, name="member-preferences"),
    path(
        "consent/members/<uuid:ref>/works/<str:public_id>/",
        preferences.member_work,
        name="member-work",
    ),
]
