"""Sending digests: the hourly run, one notice per (developer, period), never twice."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notices.models import AIDeveloper, Notice
from notices.services import notice_create

from .build import LedgerWindow, digest_build
from .files import csv_document, json_document
from .periods import Period, period_latest

logger = logging.getLogger(__name__)

# A period is built only this long after it ended, so that a change committing at midnight is in.
SETTLE = timedelta(minutes=5)
# How long the portal remembers that a period had nothing for a developer (not rebuilt hourly).
EMPTY_MEMORY = timedelta(days=8)


def digest_key(developer: AIDeveloper, period: Period) -> str:
    # By id, not slug: renaming a developer must not send a period again.
    return f"digest:{developer.pk}:{period.label}"


def _empty_key(key: str) -> str:
    return f"consent-digest-empty:{key}"


def export_urls(developer: AIDeveloper, period: Period) -> dict[str, str]:
    args = [developer.slug, period.label]
    return {
        fmt: settings.SITE_URL + reverse(f"consent:digest-{fmt}", args=args)
        for fmt in ("csv", "json")
    }


def _already_done(key: str) -> bool:
    """Sent already (a notice holds the key), or known to have had nothing to send."""
    return Notice.objects.filter(key=key).exists() or bool(cache.get(_empty_key(key)))


def digest_send(
    *, developer: AIDeveloper, period: Period, windows: dict | None = None
) -> Notice | None:
    """Queue ``developer``'s digest of ``period`` as a notice, unless it was sent already or
    nothing changed for it. Idempotent on the key ``digest:<slug>:<label>``: two runs at once
    still make one notice. ``windows`` (label → LedgerWindow) shares reading the ledger."""
    key = digest_key(developer, period)
    if _already_done(key):  # before building anything
        return None
    windows = {} if windows is None else windows
    if period.label not in windows:
        windows[period.label] = LedgerWindow(period.start, period.end)
    digest = digest_build(
        developer=developer, start=period.start, end=period.end, window=windows[period.label]
    )
    limit = settings.CONSENT_DIGEST_MAX_WORKS
    kept, count = [], 0
    for row in digest.rows():
        count += 1
        if count <= limit:
            kept.append(row)
    if count == 0:
        cache.set(_empty_key(key), True, EMPTY_MEMORY.total_seconds())
        return None
    too_many = count > limit
    name = f"consent-digest-{developer.slug}-{period.label}"
    attachments = []
    if not too_many:
        document = "".join(json_document(digest, period, kept))
        attachments = [
            (f"{name}.json", document.encode(), "application/json"),
            (f"{name}.csv", "".join(csv_document(kept)).encode(), "text/csv; charset=utf-8"),
        ]
    context = {
        "developer": developer,
        "period": period,
        "count": count,
        "limit": limit,
        "too_many": too_many,
        "filenames": [attachment[0] for attachment in attachments],
        "export": export_urls(developer, period),
        "site_name": settings.SITE_NAME,
    }
    with transaction.atomic():
        return notice_create(
            developer=developer,
            topic=key,
            key=key,
            subject=render_to_string("consent/email/digest_subject.txt", context),
            text=render_to_string("consent/email/digest_message.txt", context),
            html=render_to_string("consent/email/digest_message.html", context),
            attachments=attachments,
            answerable=False,
        )


def digests_send(*, now: datetime | None = None) -> int:
    """Hourly (beat): each active developer's digest of its latest complete period, at its
    frequency (none when off). A failure for one developer is logged and the others go on.
    Returns how many digests were queued."""
    now = now or timezone.now()
    windows: dict[str, LedgerWindow] = {}
    sent = 0
    developers = AIDeveloper.objects.filter(is_active=True).exclude(
        digest_frequency=AIDeveloper.DigestFrequency.OFF
    )
    for developer in developers.order_by("pk"):
        try:
            period = period_latest(developer.digest_frequency, now - SETTLE)
            if digest_send(developer=developer, period=period, windows=windows) is not None:
                sent += 1
        except Exception:
            logger.exception("The consent digest of %s could not be built.", developer.slug)
    return sent
