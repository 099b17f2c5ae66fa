from django.urls import include, path

app_name = "consent"

urlpatterns = [
    # The creator's preferences, credit, grants, mandates and history.
    path("", include("consent.urls_preferences")),
    # Machine-readable signals: robots.txt, ai.txt, tdmrep.json, per-work policies, snippets.
    path("", include("consent.urls_signals")),
]
