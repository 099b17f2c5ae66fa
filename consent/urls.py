from django.urls import include, path

from .views import digests

app_name = "consent"

urlpatterns = [
    # The creator's preferences, credit, grants, mandates and history.
    path("", include("consent.urls_preferences")),
    # Machine-readable signals: robots.txt, ai.txt, tdmrep.json, per-work policies, snippets.
    path("", include("consent.urls_signals")),
    # The full export of an AI developer's consent digest for one period (2026-11-25, 2026-W47).
    path("digests/<slug:slug>/<str:period>.csv", digests.export_csv, name="digest-csv"),
    path("digests/<slug:slug>/<str:period>.json", digests.export_json, name="digest-json"),
]
