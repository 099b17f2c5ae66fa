"""Emails to people (account emails, and the portal's to creators and staff) are durable: a row
in the database first, sent by a worker, retried from the database.

- **Queue**: ``queue_message`` / ``queue_templated`` write an ``OutboundEmail`` (the rendered
  message as JSON, and a ``Message-ID`` fixed now) in the caller's transaction: a change rolled
  back sends nothing, a committed one loses nothing. After commit a wake-up is published
  (``accounts.broker.publish``: bounded, never raises, paused after a failure); nothing is ever
  sent inside the request, and nothing after the commit can turn the request into an error.
- **Claim**: one conditional UPDATE (queued and due, or sending with an expired lease → sending,
  a lease of ``EMAIL_OUTBOX_LEASE_SECONDS``, ``attempts + 1``) returns the new attempt count:
  the worker's token. Only the holder of the latest token records an outcome.
- **Send**: outside any database transaction, with the row's ``Message-ID`` (a copy sent again
  after a worker died is recognisably the same message). The outcome is recorded at once.
- **Retry**: a temporary failure (4xx, no connection, a timeout) comes back after a back-off
  doubled each attempt from ``EMAIL_OUTBOX_RETRY_BASE`` up to ``EMAIL_OUTBOX_RETRY_MAX_DELAY``,
  kept in ``next_attempt_at``, until ``EMAIL_OUTBOX_RETRY_LIMIT`` after it was queued; then, or
  at once on a permanent refusal (5xx for every recipient, or 5xx to the message), it is
  *failed*: listed read-only in the Django admin for operators. When the mail server cannot be
  reached the rest of a batch is left queued, untried.
- **Sweep** (beat, ``accounts.tasks.emails_sweep``): publishes again every email due for more
  than ``EMAIL_OUTBOX_SWEEP_GRACE`` and every expired lease, so a lost broker message or a
  killed worker loses nothing; deletes sent and failed emails after ``EMAIL_OUTBOX_KEEP_DAYS``.

A sent email keeps its recipients, subject and Message-ID but not its body, which may hold a
sign-in or password-reset link. Delivery is at least once: a worker killed after the server
took a message but before the outcome was written sends it again once the lease expires.
"""

import logging
import smtplib
from datetime import timedelta
from email.utils import make_msgid
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from . import broker
from .models import OutboundEmail

logger = logging.getLogger(__name__)

Status = OutboundEmail.Status


# --- The message as JSON -----------------------------------------------------------------------


def message_to_payload(message: EmailMessage) -> dict:
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [
            [content, mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
        "content_subtype": message.content_subtype,
    }


def payload_to_message(payload: dict) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from_email"],
        to=payload["to"],
        reply_to=payload.get("reply_to") or None,
        headers=payload.get("headers") or None,
    )
    message.content_subtype = payload.get("content_subtype", "plain")
    for content, mimetype in payload.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    return message


# --- Queueing (in the caller's transaction) -----------------------------------------------------


def _message_id_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "portal.invalid"


def queue_message(message: EmailMessage) -> OutboundEmail:
    """Keep ``message`` in the database, in the current transaction; a worker sends it once the
    transaction commits (woken then, or found by the sweep)."""
    payload = message_to_payload(message)
    email = OutboundEmail.objects.create(
        message_id=payload["headers"].get("Message-ID") or make_msgid(domain=_message_id_domain()),
        to=", ".join(payload["to"]),
        subject=payload["subject"][:300],
        payload=payload,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(partial(wake, [email.pk]), robust=True)
    return email


def queue_templated(
    template_prefix: str, to: list[str], context: dict, reply_to=None
) -> OutboundEmail:
    """Render ``<prefix>_subject.txt``, ``_message.txt`` and ``_message.html`` and queue them."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template_prefix}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=f"[{settings.SITE_NAME}] {subject}",
        body=render_to_string(f"{template_prefix}_message.txt", context),
        to=to,
        reply_to=reply_to,
    )
    message.attach_alternative(
        render_to_string(f"{template_prefix}_message.html", context), "text/html"
    )
    return queue_message(message)


def wake(email_ids) -> bool:
    """Publish one wake-up for these emails. Never raises: if the broker cannot take it, the
    sweep finds them."""
    from .tasks import emails_send

    email_ids = [int(pk) for pk in email_ids]
    return bool(email_ids) and broker.publish(emails_send, args=(email_ids,))


# --- Claim, send, record (the worker) -----------------------------------------------------------


def claim(email_id: int, *, now=None) -> int | None:
    """Take this email with one conditional UPDATE; returns the token (the new attempt count),
    or None when it is not ours: someone holds it, it is not due, or it is done."""
    now = now or timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(OutboundEmail._meta.db_table)
    lease_until = now + timedelta(seconds=settings.EMAIL_OUTBOX_LEASE_SECONDS)
    sql = (
        f"UPDATE {table} SET status = %s, lease_until = %s, attempts = attempts + 1 "
        "WHERE id = %s AND status IN (%s, %s) AND next_attempt_at <= %s "
        "AND (lease_until IS NULL OR lease_until < %s) RETURNING attempts"
    )
    params = [Status.SENDING.value, adapt(lease_until), int(email_id)]
    params += [Status.QUEUED.value, Status.SENDING.value, adapt(now), adapt(now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


# The mail server itself cannot be reached: the rest of a batch would wait just as long.
_UNREACHABLE = (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)


def _reply(code, message) -> str:
    if isinstance(message, bytes):
        message = message.decode(errors="replace")
    return f"{code} {message}"


def classify(exc: Exception) -> tuple[bool, str]:
    """``(permanent, what happened)`` for a failed send. Permanent: the server refused every
    recipient with 5xx (Django raises ``SMTPRecipientsRefused`` for 451 and 550 alike), or the
    message itself with 5xx, or the message cannot be built. Refusals of our sign-in or sender
    address, 4xx, and network errors are temporary: they are ours, not the message's."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(f"{to}: {_reply(*reply)}" for to, reply in exc.recipients.items())
        return bool(codes) and all(500 <= code < 600 for code in codes), text
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600, _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPResponseException):
        return False, f"{type(exc).__name__}: {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, (smtplib.SMTPException, OSError)):
        return False, f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (ValueError, TypeError, KeyError)):  # e.g. a header with a newline
        return True, f"{type(exc).__name__}: {exc}"
    return False, f"{type(exc).__name__}: {exc}"


def _retry_delay(attempts: int) -> float:
    base = settings.EMAIL_OUTBOX_RETRY_BASE
    return min(base * 2 ** max(attempts - 1, 0), settings.EMAIL_OUTBOX_RETRY_MAX_DELAY)


def _record(email: OutboundEmail, token: int, exc: Exception | None) -> str:
    """Write the outcome of attempt ``token`` — unless a newer attempt took the email."""
    now = timezone.now()
    mine = OutboundEmail.objects.filter(pk=email.pk, status=Status.SENDING, attempts=token)
    if exc is None:
        mine.update(status=Status.SENT, sent_at=now, lease_until=None, last_error="", payload={})
        return Status.SENT
    permanent, error = classify(exc)
    retry_at = now + timedelta(seconds=_retry_delay(token))
    limit = email.created_at + timedelta(seconds=settings.EMAIL_OUTBOX_RETRY_LIMIT)
    if not permanent and retry_at > limit:
        permanent, error = True, f"{error} (gave up after {token} attempts)"
    if permanent:
        logger.error("Email %s to %s failed: %s", email.pk, email.to, error)
        mine.update(status=Status.FAILED, lease_until=None, last_error=error[:2000])
        return Status.FAILED
    logger.warning("Email %s to %s: %s; retried at %s", email.pk, email.to, error, retry_at)
    mine.update(
        status=Status.QUEUED, lease_until=None, next_attempt_at=retry_at, last_error=error[:2000]
    )
    return Status.QUEUED


def send(email_id: int) -> tuple[str | None, Exception | None]:
    """Claim, send and record one email. Returns its resulting status (None when it was not
    ours) and the error of the send, if any."""
    token = claim(email_id)
    if token is None:
        return None, None
    email = OutboundEmail.objects.get(pk=email_id)
    try:
        message = payload_to_message(email.payload)
        message.extra_headers["Message-ID"] = email.message_id
        message.send()
    except Exception as exc:  # recorded, classified: temporary or permanent
        return _record(email, token, exc), exc
    return _record(email, token, None), None


def send_many(email_ids) -> dict[int, str]:
    """Send these emails one by one; returns ``{id: status}`` for those that were ours. When
    the mail server cannot be reached, the rest are left queued for a later wake-up."""
    results = {}
    for email_id in email_ids:
        status, exc = send(email_id)
        if status is not None:
            results[int(email_id)] = status
        if isinstance(exc, _UNREACHABLE):
            break
    return results


# --- The sweep (beat) ---------------------------------------------------------------------------


def sweep(*, now=None) -> int:
    """Publish again every email due for over ``EMAIL_OUTBOX_SWEEP_GRACE`` (its wake-up may
    have been lost) and every one whose worker's lease expired; delete sent and failed emails
    older than ``EMAIL_OUTBOX_KEEP_DAYS``. Returns how many emails were published."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.EMAIL_OUTBOX_SWEEP_GRACE)
    size = max(settings.EMAIL_OUTBOX_BATCH_SIZE, 1)
    ids = list(
        OutboundEmail.objects.filter(
            Q(status=Status.QUEUED, next_attempt_at__lte=now - grace)
            | Q(status=Status.SENDING, lease_until__lt=now)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[: size * 20]
    )
    published = 0
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        if not wake(chunk):
            break  # the broker is down: the next sweep tries again
        published += len(chunk)
    OutboundEmail.objects.filter(
        status__in=[Status.SENT, Status.FAILED],
        created_at__lt=now - timedelta(days=settings.EMAIL_OUTBOX_KEEP_DAYS),
    ).delete()
    return published
