"""URLs of the machine-readable signals (in the ``consent`` namespace, at the site root)."""

from django.urls import path

from .views import signals

urlpatterns = [
    path("robots.txt", signals.robots_txt, name="robots-txt"),
    path("ai.txt", signals.ai_txt, name="ai-txt"),
    path(".well-known/tdmrep.json", signals.tdmrep_json, name="tdmrep-json"),
    path("signals/tdm-policy.json", signals.default_tdm_policy, name="tdm-policy-default"),
    path("w/<str:public_id>/tdm-policy.json", signals.work_tdm_policy, name="tdm-policy"),
    path("w/<str:public_id>/license.rsl", signals.work_licence, name="licence"),
    path(
        "w/<str:public_id>/c2pa-training-mining.json",
        signals.work_c2pa,
        name="c2pa-training-mining",
    ),
    path("consent/snippets/", signals.snippets, name="snippets"),
    path(
        "consent/snippets/c2pa-training-mining.json",
        signals.snippets_c2pa,
        name="snippets-c2pa",
    ),
]
