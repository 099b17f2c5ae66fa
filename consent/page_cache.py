"""A cache of the public work page for anonymous readers (crawlers, mostly) that can never serve
a stale page.

Each entry's key is a *version*: a hash of everything the page shows, read in one small SQL
query — the work's own fields, the count and latest id of its identifiers, the creator's
profile and credit, an exact encoding of the creator's defaults and the work's overrides, the
head of the creator's consent-ledger chain, and the portal's address (``SITE_URL``, which every
link and signal header on the page names). A change therefore makes a new key; the old entry is
never looked at again and ages out. The cache is per process (local memory), so nothing has to
be invalidated across machines.

Only requests without a session or a pending message are served from or stored in the cache
(a signed-in page differs: navigation, CSRF token), and only 200 responses that set no cookie.
"""

import hashlib

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from .vocabulary import USES

CACHE_ALIAS = "public_pages"

# The creator's defaults and the work's overrides (at most five rows each, unique per use)
# encoded exactly as two numbers: each row's choice (1, 2, 3) at its use's own base-4 digit.
# Two subqueries, each answered from an index (defaults: the owner's rows without a work;
# overrides: the work's rows) — an OR of the two would read all of the creator's overrides.
_ENCODED = (
    "COALESCE(SUM(CASE f.choice WHEN 'allow' THEN 1 WHEN 'licence' THEN 2 ELSE 3 END * "
    "CASE f.use " + " ".join(f"WHEN '{use}' THEN {4**i}" for i, use in enumerate(USES)) + " END)"
    ", 0)"
)
_DEFAULTS = (
    f"(SELECT {_ENCODED} FROM consent_preference f WHERE f.owner_id = u.id AND f.work_id IS NULL)"
)
_OVERRIDES = f"(SELECT {_ENCODED} FROM consent_preference f WHERE f.work_id = w.id)"

_VERSION_SQL = f"""
SELECT w.id, w.title, w.kind, w.year, w.description, w.co_creators, w.status, w.claim_state,
       w.updated_at, p.credit_name, p.display_name, p.updated_at, cp.updated_at,
       (SELECT COUNT(*) FROM works_workidentifier i WHERE i.work_id = w.id),
       (SELECT MAX(i.id) FROM works_workidentifier i WHERE i.work_id = w.id),
       {_DEFAULTS}, {_OVERRIDES},
       c.length, c.head_hash
  FROM works_work w
  JOIN accounts_user u ON u.id = w.owner_id
  LEFT JOIN accounts_creatorprofile p ON p.user_id = u.id
  LEFT JOIN consent_creditpreference cp ON cp.owner_id = u.id
  LEFT JOIN consent_ledgerchain c ON c.chain_id = u.ref
 WHERE w.public_id = %s
"""


def page_version(public_id: str) -> str | None:
    """The version of a work's public page, or None when there is no such work."""
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL, [public_id])
        row = cursor.fetchone()
    if row is None:
        return None
    # The address the page's links and signal headers name is part of it too: a page cached
    # before the portal moved to another address (SITE_URL) is never served after.
    return hashlib.sha256(repr((row, settings.SITE_URL)).encode()).hexdigest()[:32]


def cacheable_request(request) -> bool:
    return (
        settings.PUBLIC_PAGE_CACHE
        and request.method in ("GET", "HEAD")
        and not request.GET
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def get(key: str):
    return caches[CACHE_ALIAS].get(key)


def put(key: str, response, signal_headers: dict) -> None:
    if response.status_code != 200 or response.streaming or response.cookies:
        return
    caches[CACHE_ALIAS].set(key, (response.content, response["Content-Type"], dict(signal_headers)))


def hit_response(cached):
    """The response for a cached page (the AI-signal headers are set by the next middleware).
    ``Vary: Cookie`` as on the rendered page: a shared cache must not give this anonymous page
    to a signed-in reader."""
    content, content_type, _ = cached
    response = HttpResponse(content, content_type=content_type)
    patch_vary_headers(response, ["Cookie"])
    return response
