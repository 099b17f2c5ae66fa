"""Deadlines: reminders before a notice's answer is due, and *overdue* after it.

``deadlines_run`` (beat, every ``NOTICES_DEADLINE_SWEEP`` seconds) looks at every open notice —
a notice (not a reminder) with ``answer_due_at``, not answered, whose overdue handler has not
run — and:

1. creates the latest reminder that is due: one per offset of ``NOTICES_REMINDER_OFFSETS``
   (seconds before the deadline), only for moments after the notice was created (a notice
   due in two days gets no "seven days left" reminder), and only the latest when a run comes
   late (after an outage the developer gets one reminder, not three). A reminder is a notice
   too, on the same topic, keyed ``"<key>:reminder:<offset>"``, so creating it twice is
   harmless;
2. once the deadline has passed, sets ``overdue_at`` and calls the handler registered for the
   topic's prefix exactly once: a conditional UPDATE of ``overdue_handled_at`` claims the
   notice, and the handler runs in that same transaction (see ``handlers``).

An answered notice (``answered_at``) is no longer open: no more reminders, no overdue.
"""

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .handlers import overdue_handler_for
from .models import Notice
from .services.outbox import notice_create

logger = logging.getLogger(__name__)

KEY_MAX = Notice._meta.get_field("key").max_length


def reminder_key(key: str, offset: int) -> str:
    candidate = f"{key}:reminder:{offset}"
    if len(candidate) <= KEY_MAX:
        return candidate
    return f"sha256:{hashlib.sha256(key.encode()).hexdigest()}:reminder:{offset}"


def open_notices():
    return Notice.objects.filter(
        kind=Notice.Kind.NOTICE,
        answer_due_at__isnull=False,
        answered_at__isnull=True,
        overdue_handled_at__isnull=True,
    )


def _offsets() -> list[int]:
    return sorted({int(offset) for offset in settings.NOTICES_REMINDER_OFFSETS if int(offset) >= 0})


def due_reminder_offset(notice: Notice, now, offsets: list[int]) -> int | None:
    """The offset of the latest reminder whose moment has come (and came after the notice
    was created), or None."""
    for offset in offsets:  # smallest first: the latest moment
        moment = notice.answer_due_at - timedelta(seconds=offset)
        if notice.created_at < moment <= now:
            return offset
    return None


def reminder_create(notice: Notice, offset: int) -> Notice:
    context = {
        "notice": notice,
        "offset": offset,
        "site_name": settings.SITE_NAME,
        "body_html": notice.html,
    }
    return notice_create(
        developer=notice.developer,
        topic=notice.topic,
        key=reminder_key(notice.key, offset),
        subject=f"Reminder: {notice.subject}",
        text=render_to_string("notices/email/reminder.txt", context),
        html=render_to_string("notices/email/reminder.html", context),
        attachments=[  # the same stored files, not read again
            (a.filename, a.blob, a.content_type) for a in notice.attachments.select_related("blob")
        ],
        reply_to=notice.reply_to,
        kind=Notice.Kind.REMINDER,
        reminds=notice,
    )


def _overdue(notice: Notice, now) -> bool:
    """Mark the notice overdue and run its handler once; True if this call ran it."""
    if notice.overdue_at is None:
        Notice.objects.filter(pk=notice.pk, overdue_at__isnull=True).update(overdue_at=now)
    handler = overdue_handler_for(notice.topic)
    try:
        with transaction.atomic():
            claimed = Notice.objects.filter(
                pk=notice.pk, overdue_handled_at__isnull=True, answered_at__isnull=True
            ).update(overdue_handled_at=now)
            if not claimed:
                return False
            if handler is None:
                logger.info("Notice %s overdue; no handler for %s", notice.pk, notice.topic)
                return True
            notice.refresh_from_db()
            handler(notice)  # raising rolls the claim back: the next run tries again
    except Exception:
        logger.exception("Overdue handler for notice %s failed; the next run retries", notice.pk)
        return False
    return True


def deadlines_run(now=None) -> dict[str, int]:
    now = now or timezone.now()
    offsets = _offsets()
    horizon = now + timedelta(seconds=max(offsets, default=0))
    counts = {"reminders": 0, "overdue": 0}
    last = None  # keyset pagination: every open notice in reach is looked at, in batches
    while True:
        batch_qs = open_notices().filter(answer_due_at__lte=horizon)
        if last is not None:
            batch_qs = batch_qs.filter(answer_due_at__gte=last[0]).exclude(
                answer_due_at=last[0], pk__lte=last[1]
            )
        batch = list(
            batch_qs.select_related("developer").order_by("answer_due_at", "pk")[
                : settings.NOTICES_DEADLINE_BATCH
            ]
        )
        if not batch:
            break
        last = (batch[-1].answer_due_at, batch[-1].pk)
        existing = set(Notice.objects.filter(reminds__in=batch).values_list("key", flat=True))
        for notice in batch:
            offset = due_reminder_offset(notice, now, offsets)
            if (
                offset is not None
                and reminder_key(notice.key, offset) not in existing
                and notice.developer.is_active
            ):
                try:
                    with transaction.atomic():
                        reminder_create(notice, offset)
                    counts["reminders"] += 1
                except Exception:
                    logger.exception("Reminder for notice %s could not be created", notice.pk)
            if now > notice.answer_due_at and _overdue(notice, now):
                counts["overdue"] += 1
        if len(batch) < settings.NOTICES_DEADLINE_BATCH:
            break
    return counts
