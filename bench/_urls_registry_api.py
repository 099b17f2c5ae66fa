"""The project's URLs plus the registry API benchmark's two yardsticks (``bench/registry_api.py``):

- ``GET /bench/trivial.json``: a constant JSON object, no database — what
  ``GET /api/v1/works/<id>`` is compared with;
- ``GET /bench/floor/<public_id>``: the least any fresh, rate-limited read can do — one
  counter bumped in the shared cache (one Redis round trip) and one indexed row read from
  PostgreSQL (the work's title), answered as JSON. Not a target: it shows how much of the
  trivial view's rate two round trips leave, whatever the endpoint does besides;
- ``POST /bench/bare-lookup``: the same JSON body as ``POST /api/v1/lookup``, parsed, each item
  read and normalised as the lookup does (``works_registry.lookup.parse_item``), then only the
  identifier queries (``works_registry.lookup.matches``: one per identifier kind) — no key,
  no work objects, no decisions; it answers how many items matched. What the bulk lookup is
  compared with.

Mounted only by ``bench._settings_registry_api``.
"""

import json
from collections import defaultdict

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.ratelimits import rate_limits_hit, rate_parse
from works_registry.lookup import ItemError, matches, parse_item


@require_GET
def trivial_json(request):
    return JsonResponse({"ok": True})


@require_GET
def floor(request, public_id):
    rate_limits_hit([("bench-floor", "all", rate_parse("100000000/min"))])  # as the API counts
    with connection.cursor() as cursor:
        cursor.execute("SELECT title FROM works_work WHERE public_id = %s", [public_id])
        row = cursor.fetchone()
    return JsonResponse({"title": row[0] if row else None})


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
    return JsonResponse({"items": len(items), "matched": len(matches(wanted)), "errors": errors})


urlpatterns = [
    path("bench/trivial.json", trivial_json),
    path("bench/bare-lookup", bare_lookup),
    path("bench/floor/<str:public_id>", floor),
    path("", include("portal.urls")),
]
