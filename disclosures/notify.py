"""Telling creators once (docs/disclosures.md, "Told once").

When matching of a disclosure ends ``done``, each creator with findings in it — the owners of
the works found, and of the verified sites an address fell under — gets **one** email, however
many works and rows: the developer, the dataset (name, version, uses), how many of their works,
the strongest matches (up to ``STRONGEST``: identifiers and addresses before an image's pHash
before a title with its author), and a link to their "Found in datasets" page. A later re-match
(``matching.disclosure_rematch``) that adds findings sends one more, naming only those.

Exactly once: every finding points to the ``Announcement`` that told of it. ``findings_announce``
takes the disclosure's row lock, reads the findings no announcement told of yet, and for a
batch of creators writes, in one transaction, each creator's ``Announcement``, the findings'
pointer to it and the email in the outbox (``accounts.mail``: sent by a worker after commit). Two
callers at once queue one email: the second finds nothing left to tell. It runs after the
matching transaction committed (``transaction.on_commit``), never inside it; if the process dies
in between, the sweep (``findings_announce_due``, every minute with the disclosures' sweep) finds
the findings of a done disclosure that were never told of.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Min, Value, When
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts import mail
from accounts.models import User
from works.models import Work
from works_registry.models import Site

from .models import Announcement, Disclosure, Finding

logger = logging.getLogger(__name__)

Kind = Finding.Kind
STRONGEST = 5
BATCH = 100  # creators told per transaction
# The order in which matches are named: identifiers and addresses, then the image's perceptual
# hash (closest first), then a title with its author (weaker evidence).
ORDER = [
    Kind.SHA256,
    Kind.ISBN,
    Kind.ISRC,
    Kind.ISWC,
    Kind.DOI,
    Kind.URL,
    Kind.SITE,
    Kind.PHASH,
    Kind.TITLE,
]
_SPAN = 100  # a pHash distance is at most 64 bits: rank × 100 + distance keeps both in order
GRACE = timedelta(minutes=2)  # the sweep leaves a just-finished run to its own on_commit call

OWNER = Coalesce("work__owner_id", "site__owner_id")
RANK = Case(
    *[When(kind=kind, then=Value(index * _SPAN)) for index, kind in enumerate(ORDER)],
    default=Value(len(ORDER) * _SPAN),
    output_field=IntegerField(),
)

HOW = {
    Kind.SHA256: "the exact file (its SHA-256)",
    Kind.ISBN: "its ISBN",
    Kind.ISRC: "its ISRC",
    Kind.ISWC: "its ISWC",
    Kind.DOI: "its DOI",
    Kind.URL: "its address",
    Kind.SITE: "an address under this verified site",
    Kind.PHASH: "a copy of the image (its perceptual hash)",
    Kind.TITLE: "its title and your name (weaker evidence: please check)",
}


@dataclass(frozen=True)
class Match:
    label: str  # the work's title, or the site's address
    kind: str
    how: str
    distance: int
    weak: bool


def findings_url() -> str:
    """The creator's "Found in datasets" page (``findings:list``); their dashboard until that
    page is installed."""
    try:
        path = reverse("findings:list")
    except NoReverseMatch:
        path = reverse("portal:dashboard")
    return f"{settings.SITE_URL}{path}"


def announce_after_commit(disclosure_id: int) -> None:
    """Tell the creators once the caller's transaction commits (at once outside one)."""
    transaction.on_commit(partial(_announce_quietly, disclosure_id), robust=True)


def _announce_quietly(disclosure_id: int) -> None:
    try:
        findings_announce(disclosure_id=disclosure_id)
    except Exception:  # the sweep tries again; matching's outcome stands
        logger.exception("Disclosure %s: creators not told yet", disclosure_id)


def _untold(disclosure_id: int):
    return Finding.objects.filter(disclosure_id=disclosure_id, announcement__isnull=True)


def findings_announce(*, disclosure_id: int, now=None) -> int:
    """Tell every creator with findings in this ``done`` disclosure that no email told of yet;
    returns how many emails were queued."""
    queued = 0
    while True:
        with transaction.atomic():
            disclosure = (
                Disclosure.objects.select_for_update(of=("self",))
                .select_related("developer")
                .filter(pk=disclosure_id, state=Disclosure.State.DONE)
                .first()
            )
            if disclosure is None:
                return queued
            owners = list(
                _untold(disclosure_id)
                .annotate(owner=OWNER)
                .order_by("owner")
                .values_list("owner", flat=True)
                .distinct()[:BATCH]
            )
            if not owners:
                return queued
            queued += _announce_batch(disclosure, owners, now or timezone.now())


def _announce_batch(disclosure: Disclosure, owners: list[int], now) -> int:
    untold = _untold(disclosure.pk).annotate(owner=OWNER).filter(owner__in=owners)
    counts = {
        row["owner"]: row
        for row in untold.values("owner")
        .order_by("owner")
        .annotate(
            findings=Count("pk"),
            works=Count("work_id", distinct=True),
            sites=Count("site_id", distinct=True),
        )
    }
    users = User.objects.in_bulk(owners)
    link = findings_url()
    queued = 0
    for owner_id in owners:
        figures = counts.get(owner_id)
        user = users.get(owner_id)
        if figures is None or user is None:
            continue
        matches = _strongest(untold.filter(owner=owner_id))
        announcement = Announcement.objects.create(
            disclosure=disclosure,
            creator=user,
            findings_count=figures["findings"],
            works_count=figures["works"] + figures["sites"],
            created_at=now,
        )
        marked = untold.filter(owner=owner_id).update(announcement=announcement)
        if not marked:  # nothing left to tell after all
            announcement.delete()
            continue
        if user.is_active and user.email:
            told_before = (
                Announcement.objects.filter(disclosure=disclosure, creator=user)
                .exclude(pk=announcement.pk)
                .exists()
            )
            email = mail.queue_templated(
                "disclosures/email/findings",
                [user.email],
                {
                    "disclosure": disclosure,
                    "developer": disclosure.developer,
                    "works_count": announcement.works_count,
                    "findings_count": announcement.findings_count,
                    "matches": matches,
                    "more": max(announcement.works_count - len(matches), 0),
                    "later": told_before,
                    "uses": _uses(disclosure),
                    "findings_url": link,
                },
            )
            Announcement.objects.filter(pk=announcement.pk).update(message_id=email.message_id)
            queued += 1
    return queued


def _uses(disclosure: Disclosure) -> str:
    """The uses' labels as in a sentence: "training generative AI; search indexing…"."""
    return "; ".join(label[:1].lower() + label[1:] for label in disclosure.use_labels)


def _strongest(findings) -> list[Match]:
    """Up to ``STRONGEST`` works or sites of these findings, each by its strongest match."""
    best = list(
        findings.values("work_id", "site_id")
        .order_by("work_id", "site_id")
        .annotate(best=Min(RANK + F("distance")), first_row=Min("row"))
        .order_by("best", "first_row", "work_id", "site_id")[:STRONGEST]
    )
    titles = dict(
        Work.objects.filter(pk__in=[b["work_id"] for b in best if b["work_id"]]).values_list(
            "pk", "title"
        )
    )
    sites = {
        site.pk: site
        for site in Site.objects.filter(pk__in=[b["site_id"] for b in best if b["site_id"]])
    }
    matches = []
    for row in best:
        rank, distance = divmod(row["best"], _SPAN)
        kind = ORDER[min(rank, len(ORDER) - 1)]
        if row["work_id"]:
            label = titles.get(row["work_id"], "")
        else:
            site = sites.get(row["site_id"])
            label = f"{site.host}{site.path}" if site else ""
        matches.append(
            Match(
                label=label,
                kind=kind,
                how=HOW[kind],
                distance=distance,
                weak=kind == Kind.TITLE,
            )
        )
    return matches


def findings_announce_due(*, now=None) -> int:
    """The sweep's part: every ``done`` disclosure with findings no email told of for over
    ``GRACE`` (the process that finished it died before telling) is told now. Returns how many
    emails were queued."""
    now = now or timezone.now()
    ids = list(
        Finding.objects.filter(
            announcement__isnull=True,
            disclosure__state=Disclosure.State.DONE,
            created_at__lt=now - GRACE,
        )
        .order_by("disclosure_id")
        .values_list("disclosure_id", flat=True)
        .distinct()[:20]
    )
    return sum(findings_announce(disclosure_id=pk, now=now) for pk in ids)
