"""The machine-readable signals as files: robots.txt, ai.txt, tdmrep.json, each work's TDM
policy, RSL licence and C2PA training-mining assertion, and the creator's snippets for their own
website and files. Every answer is computed from the decisions when asked
(``consent.signals``): nothing is cached, here or downstream."""

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_safe

from works.models import Work

from .. import signals

# Intermediaries and crawlers must revalidate: a creator's change shows at once.
fresh = cache_control(no_cache=True, max_age=0)


def _work(public_id: str) -> Work:
    """Any registered work, archived ones too (they keep their signals); 404 otherwise."""
    return get_object_or_404(
        Work.objects.select_related("owner", "owner__creator_profile"), public_id=public_id
    )


def _text(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


def _json(data, content_type: str) -> HttpResponse:
    body = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return HttpResponse(body, content_type=f"{content_type}; charset=utf-8")


@require_safe
@fresh
def robots_txt(request):
    return _text(signals.robots_txt())


@require_safe
@fresh
def ai_txt(request):
    return _text(signals.ai_txt())


@require_safe
@fresh
def tdmrep_json(request):
    return _json(signals.tdmrep_json(), "application/json")


@require_safe
@fresh
def default_tdm_policy(request):
    return _json(signals.default_tdm_policy(), "application/ld+json")


@require_safe
@fresh
def work_tdm_policy(request, public_id):
    return _json(signals.tdm_policy(_work(public_id)), "application/ld+json")


@require_safe
@fresh
def work_licence(request, public_id):
    return HttpResponse(
        signals.rsl_document(_work(public_id)),
        content_type=f"{signals.RSL_MEDIA_TYPE}; charset=utf-8",
    )


@require_safe
@fresh
def work_c2pa(request, public_id):
    """The work's ``cawg.training-mining`` assertion (a C2PA manifest definition), public like
    its page: what its creator signs into the work's files."""
    return _json(signals.c2pa_training_mining(_work(public_id)), "application/json")


@login_required
@require_GET
def snippets(request):
    """The signed-in creator's signals for their own website and files, from their defaults."""
    texts = signals.snippets_for(request.user)
    return render(
        request,
        "consent/snippets.html",
        {
            "snippets": [
                {"key": key, "label": signals.SNIPPET_LABELS[key], "text": text}
                for key, text in texts.items()
            ],
        },
    )


@login_required
@require_GET
@fresh
def snippets_c2pa(request):
    """The signed-in creator's ``cawg.training-mining`` assertion from their defaults, as a file
    to download (their own only: there is no one else's to ask for)."""
    response = _json(signals.c2pa_for_owner(request.user), "application/json")
    response["Content-Disposition"] = 'attachment; filename="c2pa-training-mining.json"'
    return response
