"""Sites in the registry's answers (docs/api.md, "Sites"): which verified sites cover the web
addresses a pipeline asks about, and the object published for a site.

A site covers an address when the host is the same (``www.`` and the bare host are one site;
``http`` and ``https`` too) and the address's path equals the site's path or continues it after
a ``/``; the longest site path wins (``sites.url_key``, ``sites.covers``). Only verified sites
count. The lookup asks this module only about addresses no work answered: a registered work's
own address answers the work.

**A site's decision** for a caller is its creator's defaults (``consent.decisions``' rules, a
site being like a work with no override) plus the caller's licence grants from that creator
that cover **all their works** (``all_works``): a grant naming chosen works names no site. With
no developer (public pages), grants never apply.

Queries do not grow with the addresses: one for every site of every host asked, then two for the
owners' decisions (defaults; the caller's all-works grants) — none when no site matched.
"""

from collections import defaultdict
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from consent.decisions import Decision, decisions_resolve
from consent.models import LicenceGrant, Preference
from consent.signals import public_signals
from consent.vocabulary import USES

from .models import Site
from .sites import covers, url_key

SITE_FIELDS = (
    "pk",
    "public_id",
    "url",
    "host",
    "path",
    "status",
    "method",
    "verified_at",
    "owner_id",
    "owner__creator_profile__credit_name",
    "owner__creator_profile__display_name",
)
PLACEHOLDER = "0PUBLICID0"


def owner_decisions(
    owner_ids, *, developer=None, on: date | None = None
) -> tuple[dict[int, dict[str, Decision]], dict[int, dict[str, Decision]]]:
    """``({owner id: {use: Decision}}, the same for anyone)``: what the owner's sites get — the
    owner's defaults, and the grants to ``developer`` in force ``on`` that cover all the
    owner's works — and their public decision (the defaults alone). Two queries (one without
    a developer)."""
    owner_ids = set(owner_ids)
    if not owner_ids:
        return {}, {}
    defaults: dict[int, dict[str, str]] = defaultdict(dict)
    for owner_id, use, choice in Preference.objects.filter(
        owner_id__in=owner_ids, work__isnull=True
    ).values_list("owner_id", "use", "choice"):
        defaults[owner_id][use] = choice
    grants: dict[int, list] = defaultdict(list)
    if developer is not None:
        for grant in (
            LicenceGrant.objects.active_on(on or timezone.localdate())
            .filter(developer=developer, owner_id__in=owner_ids, all_works=True)
            .order_by("pk")
        ):
            grants[grant.owner_id].append((grant, set()))
    public = {
        owner_id: decisions_resolve(work_id=0, defaults=defaults[owner_id], overrides={}, grants=[])
        for owner_id in owner_ids
    }
    mine = {
        owner_id: decisions_resolve(
            work_id=0, defaults=defaults[owner_id], overrides={}, grants=grants[owner_id]
        )
        if grants[owner_id]
        else public[owner_id]
        for owner_id in owner_ids
    }
    return mine, public


def page_url_template() -> str:
    return settings.SITE_URL + reverse("sites:public", args=[PLACEHOLDER])


def site_object(
    row: dict, decisions: dict[str, Decision], public: dict[str, Decision], *, page_url=None
) -> dict:
    """The object published for one site — modelled on a work's (``consent.digests``):
    ``row`` a row of ``SITE_FIELDS``, ``decisions`` use → ``Decision`` for the caller,
    ``public`` the same for anyone (its ``signals``, as a work's)."""
    page_url = page_url or page_url_template()
    verified_at = row["verified_at"]
    return {
        "public_id": row["public_id"],
        "url": page_url.replace(PLACEHOLDER, row["public_id"]),
        "site_url": row["url"],
        "host": row["host"],
        "path": row["path"] or "/",
        "status": row["status"],
        "method": row["method"],
        "verified_at": verified_at.isoformat() if verified_at else None,
        "credit_name": row["owner__creator_profile__credit_name"]
        or row["owner__creator_profile__display_name"]
        or "",
        "decision": {
            use: {
                "choice": str(decisions[use].choice),
                "source": decisions[use].source,
                "licence_ref": decisions[use].licence_ref,
            }
            for use in USES
        },
        "signals": public_signals(public),
    }


def sites_covering(urls: dict[str, list[int]]) -> dict[int, list[dict]]:
    """``{item index: [site rows]}`` for normalised addresses (``url → [item indexes]``): the
    verified sites with the longest path covering each (several only when creators' claims
    on one site conflict). One query."""
    keys = {url: url_key(url) for url, indexes in urls.items() if indexes}
    if not keys:
        return {}
    by_host: dict[str, list[dict]] = defaultdict(list)
    rows = Site.objects.filter(
        host__in=sorted({host for host, _ in keys.values()}), status=Site.Status.VERIFIED
    ).order_by("pk")
    for row in rows.values(*SITE_FIELDS):
        by_host[row["host"]].append(row)
    found: dict[int, list[dict]] = {}
    for url, (host, path) in keys.items():
        candidates = [row for row in by_host.get(host, ()) if covers(row["path"], path)]
        if not candidates:
            continue
        longest = max(len(row["path"]) for row in candidates)
        best = [row for row in candidates if len(row["path"]) == longest]
        for index in urls[url]:
            found[index] = best
    return found


def site_answers(urls: dict[str, list[int]], *, developer=None) -> dict[int, list[dict]]:
    """``{item index: [{"site": {...}, "match": {"kind": "site"}}]}`` for the items whose
    address a verified site covers, each site's decision for ``developer``."""
    covering = sites_covering(urls)
    if not covering:
        return {}
    owners = {row["owner_id"] for rows in covering.values() for row in rows}
    decisions, public = owner_decisions(owners, developer=developer)
    page_url = page_url_template()
    objects: dict[int, dict] = {}
    answers = {}
    for index, rows in covering.items():
        entries = []
        for row in rows:
            if row["pk"] not in objects:
                owner_id = row["owner_id"]
                objects[row["pk"]] = site_object(
                    row, decisions[owner_id], public[owner_id], page_url=page_url
                )
            entries.append({"site": objects[row["pk"]], "match": {"kind": "site"}})
        answers[index] = entries
    return answers
