"""The project's URLs plus the registry API benchmark's two yardsticks (``bench/registry_api.py``):

- ``GET /bench/trivial.json``: a constant JSON object, no database — what
  ``GET /api/v1/works/<id>`` is compared with;
- ``POST /bench/bare-lookup``: the same JSON body as ``POST /api/v1/lookup``, parsed, each item
  read and normalised as the lookup does (``works_registry.lookup.parse_item``), then only the
  identifier queries (``works_registry.lookup._matches``: one per identifier kind) — no key,
  no work objects, no decisions; it answers how many items matched. What the bulk lookup is
  compared with.

Mounted only by ``bench._settings_registry_api``.
"""

import json
from collections import defaultdict

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from works_registry.lookup import ItemError, _matches, parse_item


@require_GET
def trivial_json(request):
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def bare_lookup(request):
    items = json.loads(request.read())["items"]
    wanted: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    errors = 0
    for index, item in enumerate(items):
        try:
            kind, value = parse_item(item)
        except ItemError:
            errors += 1
        else:
            wanted[kind][value].append(index)
    return JsonResponse({"items": len(items), "matched": len(_matches(wanted)), "errors": errors})


urlpatterns = [
    path("bench/trivial.json", trivial_json),
    path("bench/bare-lookup", bare_lookup),
    path("", include("portal.urls")),
]
