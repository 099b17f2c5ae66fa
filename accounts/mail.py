"""Email leaves the request through the Celery worker, after the transaction commits.

A rendered message is turned into a small JSON payload, queued with ``transaction.on_commit``
and sent by ``accounts.tasks.email_send``. If the broker cannot be reached the message is sent
in-process instead, so that a person waiting for a verification email still gets it.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


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


def deliver(payload: dict) -> None:
    payload_to_message(payload).send()


def _enqueue(payload: dict) -> None:
    from .tasks import email_send

    try:
        email_send.delay(payload)
    except Exception:  # the broker is down: better sent now than never
        logger.exception("Broker unreachable; sending %r in-process", payload["subject"])
        deliver(payload)


def queue_message(message: EmailMessage) -> None:
    """Send ``message`` from the worker once the current transaction commits."""
    payload = message_to_payload(message)
    transaction.on_commit(lambda: _enqueue(payload))


def queue_templated(template_prefix: str, to: list[str], context: dict, reply_to=None) -> None:
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
    queue_message(message)
