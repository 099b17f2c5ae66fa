"""Signed answer links: the link in every notice email that lets the developer answer without
an account.

The token names one notice (a reminder's link names the notice it reminds of) and a digest of
its idempotency key, signed with the site's secret key and a salt of its own, so a token can
be neither forged nor moved to another notice, and a contact-confirmation token (another salt)
is no answer link. The token carries no time: how long it works is read from the notice —
until its deadline plus ``NOTICES_ANSWER_LINK_GRACE_DAYS`` days, or, for a notice without a
deadline, ``NOTICES_ANSWER_LINK_DAYS_WITHOUT_DEADLINE`` days after it was sent — so the same
notice always has the same link, and moving a deadline moves the link's end with it.

Reading a token changes nothing (mail scanners open links); answers are POSTs handled by
``services.answers.answer_record``.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from .models import Notice

SALT = "notices.answer-link"


class AnswerLinkError(Exception):
    """A link that cannot be used; ``status`` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AnswerLinkInvalid(AnswerLinkError):
    """Tampered with, cut short, signed for something else, or naming no notice we know."""

    status = 400


class AnswerLinkExpired(AnswerLinkError):
    """A genuine link whose time is over. ``notice`` is the notice it names; ``expired_at``
    when the link stopped working."""

    status = 410

    def __init__(self, message: str, *, notice: Notice, expired_at: datetime):
        super().__init__(message)
        self.notice = notice
        self.expired_at = expired_at


def _target(notice: Notice) -> Notice:
    """The notice an answer is about: a reminder's link answers the notice it reminds of."""
    return notice.reminds if notice.reminds_id else notice


def _key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def answer_token(notice: Notice) -> str:
    """The signed token of ``notice``'s answer link (the same every time it is asked for)."""
    target = _target(notice)
    return signing.Signer(salt=SALT).sign_object({"n": target.pk, "k": _key_digest(target.key)})


def answer_path(notice: Notice) -> str:
    return reverse("answers:link", args=[answer_token(notice)])


def answer_url(notice: Notice) -> str:
    """The absolute answer link of ``notice`` (for the email and the webhook payload)."""
    return f"{settings.SITE_URL}{answer_path(notice)}"


def link_expires_at(notice: Notice) -> datetime:
    """When ``notice``'s answer link stops working."""
    target = _target(notice)
    if target.answer_due_at is not None:
        return target.answer_due_at + timedelta(days=settings.NOTICES_ANSWER_LINK_GRACE_DAYS)
    return target.created_at + timedelta(days=settings.NOTICES_ANSWER_LINK_DAYS_WITHOUT_DEADLINE)


INVALID_MESSAGE = (
    "This answer link is not valid: it may have been cut short or changed when it was copied. "
    "Open the link from the notice email again, or copy the whole of it."
)


def notice_for_token(token: str, *, now=None) -> Notice:
    """The notice a token names (with its developer), or ``AnswerLinkInvalid`` (a bad
    signature, a token that names no notice asking for an answer) or ``AnswerLinkExpired``.
    Reads only."""
    try:
        data = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise AnswerLinkInvalid(INVALID_MESSAGE) from None
    if not isinstance(data, dict):
        raise AnswerLinkInvalid(INVALID_MESSAGE)
    pk, digest = data.get("n"), data.get("k")
    if not (isinstance(pk, int) and not isinstance(pk, bool) and isinstance(digest, str)):
        raise AnswerLinkInvalid(INVALID_MESSAGE)
    notice = (
        Notice.objects.select_related("developer")
        .filter(pk=pk, kind=Notice.Kind.NOTICE, answerable=True)
        .first()
    )
    if notice is None or _key_digest(notice.key) != digest:
        raise AnswerLinkInvalid(INVALID_MESSAGE)
    expires_at = link_expires_at(notice)
    if (now or timezone.now()) >= expires_at:
        raise AnswerLinkExpired(
            "This answer link has expired.", notice=notice, expired_at=expires_at
        )
    return notice
