"""Emails to the creator about their removal request, one per minute at most (issue 19: three
emails in one second arrive as one).

- **Record** (``update_add``, in the caller's transaction): each thing to tell them — approved,
  a question, a developer's answer… — is a ``CreatorUpdate`` row, rendered now from
  ``removals/email/<kind>_subject.txt``, ``_event.txt`` and ``_event.html``, due
  ``REMOVALS_UPDATES_WINDOW`` seconds later. A change rolled back tells them nothing. After
  commit a wake-up is published with that countdown (``accounts.broker``: never raises).
- **Send** (``updates_send``, the task): under the request's row lock, the pending updates whose
  first is due go out together — every pending update recorded up to that first one's due time
  — as one email (``removals/email/updates_*``) queued in the outbox (``accounts.mail``) in the
  same transaction that marks them sent. So nothing is sent twice (a second task finds them
  sent) and nothing is lost (a worker that dies before the commit leaves them pending; after
  it, the outbox's lease and sweep deliver the email, with its one ``Message-ID``). Updates
  recorded after that time wait for their own window: a new email.
- **Sweep** (beat, ``updates_sweep``): sends what is due whose wake-up was lost (the broker
  down at commit, a worker killed while it held the countdown).

One update alone reads exactly as the single email did before: its own subject, "Hello,", what
happened, the link to the request. Updates of different requests never share an email.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts import broker, mail

from .models import CreatorUpdate, RemovalRequest

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 500


def request_url(request: RemovalRequest) -> str:
    return f"{settings.SITE_URL}{reverse('removals:detail', args=[request.pk])}"


def _base_context(request: RemovalRequest) -> dict:
    return {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "request": request,
        "request_url": request_url(request),
    }


def update_add(*, request: RemovalRequest, kind: str, context: dict) -> CreatorUpdate:
    """Record one thing to tell them about ``request`` (in the caller's transaction); it leaves
    in the email of its request's current window."""
    context = {**_base_context(request), **context}
    prefix = f"removals/email/{kind}"
    now = timezone.now()
    window = max(float(settings.REMOVALS_UPDATES_WINDOW), 0.0)
    update = CreatorUpdate.objects.create(
        request=request,
        kind=kind,
        subject=" ".join(render_to_string(f"{prefix}_subject.txt", context).split())[:300],
        text=render_to_string(f"{prefix}_event.txt", context).strip(),
        html=render_to_string(f"{prefix}_event.html", context).strip(),
        created_at=now,
        due_at=now + timedelta(seconds=window),
    )
    transaction.on_commit(partial(wake, request.pk, countdown=window), robust=True)
    return update


def wake(request_id: int, *, countdown: float = 0) -> bool:
    """Publish the task that sends ``request_id``'s updates once due. Never raises: if the
    broker cannot take it, the sweep finds them."""
    from .tasks import creator_updates_send

    return broker.publish(
        creator_updates_send, args=(int(request_id),), countdown=max(countdown, 0) or None
    )


def _message(request: RemovalRequest, batch: list[CreatorUpdate]) -> EmailMultiAlternatives:
    if len(batch) == 1:
        subject = batch[0].subject
    else:
        subject = f"{len(batch)} updates on your removal request “{request}”"
    sections = [
        {
            "subject": u.subject,
            "at": u.created_at,
            "text": u.text,
            "html": mark_safe(u.html),  # rendered, escaped, when it was recorded
        }
        for u in batch
    ]
    context = {**_base_context(request), "title": subject, "updates": sections}
    message = EmailMultiAlternatives(
        subject=f"[{settings.SITE_NAME}] {subject}",
        body=render_to_string("removals/email/updates_message.txt", context),
        to=[request.creator.email],
    )
    message.attach_alternative(
        render_to_string("removals/email/updates_message.html", context), "text/html"
    )
    return message


def updates_send(*, request_id: int, now=None) -> float | None:
    """Queue one email for each window of ``request_id``'s pending updates that is due. Returns
    the seconds until its next pending update is due, or None when none is left."""
    now = now or timezone.now()
    with transaction.atomic():
        request = (
            RemovalRequest.objects.select_for_update()
            .select_related("creator")
            .filter(pk=request_id)
            .first()
        )
        if request is None:
            return None
        pending = list(request.updates.filter(sent_at__isnull=True).order_by("created_at", "pk"))
        while pending and pending[0].due_at <= now:
            first_due = pending[0].due_at
            batch = [u for u in pending if u.created_at <= first_due]
            pending = pending[len(batch) :]
            email = mail.queue_message(_message(request, batch))
            CreatorUpdate.objects.filter(pk__in=[u.pk for u in batch]).update(
                sent_at=now, email=email
            )
    if not pending:
        return None
    return max((pending[0].due_at - now).total_seconds(), 0.0)


def updates_sweep(*, now=None) -> int:
    """Beat: send every request's updates that are due (their wake-up may have been lost).
    Returns how many requests were looked at."""
    now = now or timezone.now()
    ids = list(
        CreatorUpdate.objects.filter(sent_at__isnull=True, due_at__lte=now)
        .order_by("request_id")
        .values_list("request_id", flat=True)
        .distinct()[:SWEEP_LIMIT]
    )
    for request_id in ids:
        try:
            updates_send(request_id=request_id, now=now)
        except Exception:  # one request's failure does not hold up the others
            logger.exception("Updates of removal request %s not sent", request_id)
    return len(ids)
