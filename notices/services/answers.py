"""Developers' answers to notices.

``answer_record`` is the one way an answer is written, whatever brought it: the signed link in
the email (no account), the developer dashboard, the API (an organisation's key), or staff
recording an answer that arrived by other means (an email reply, a letter). Every answer keeps
its time and actor; the first one sets ``Notice.answered_at``, which stops the reminders and the
overdue escalation (``deadlines.open_notices``). The caller whose topic it is hears of each new
answer through its registered handler (``handlers.register_answer_handler``), inside the same
transaction.
"""

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record

from ..access import developer_of
from ..handlers import answer_handler_for
from ..models import APIKey, Notice, NoticeAnswer

STATEMENT_MAX = 10_000
FINAL = (NoticeAnswer.Kind.COMPLIED, NoticeAnswer.Kind.DISPUTED)


def answer_fingerprint(kind: str, statement: str) -> str:
    return hashlib.sha256(f"{kind}\n{statement}".encode()).hexdigest()


def _normalise(statement: str) -> str:
    lines = [" ".join(line.split()) for line in (statement or "").strip().splitlines()]
    return "\n".join(lines).strip()


def answerable_notice(notice: Notice) -> Notice:
    """The notice an answer is about: a reminder's answer belongs to the notice it reminds of."""
    return notice.reminds if notice.reminds_id else notice


def _check_actor(notice: Notice, via: str, user: User | None, api_key: APIKey | None) -> None:
    if via == NoticeAnswer.Via.LINK:
        return  # whoever holds the signed link for this notice
    if via == NoticeAnswer.Via.DASHBOARD:
        own = developer_of(user)
        if own is None or own.pk != notice.developer_id:
            raise PermissionDenied("Only the organisation's people answer from its dashboard.")
        return
    if via == NoticeAnswer.Via.API:
        if api_key is None or api_key.revoked_at or api_key.developer_id != notice.developer_id:
            raise PermissionDenied("This key does not belong to the notice's organisation.")
        return
    if via == NoticeAnswer.Via.STAFF:
        if not (user is not None and user.is_authenticated and user.can_manage_registry):
            raise PermissionDenied("Only registry managers and superusers record answers.")
        return
    raise ValueError(f"Unknown way of answering: {via!r}")


def answer_record(
    *,
    notice: Notice,
    kind: str,
    statement: str = "",
    via: str,
    user: User | None = None,
    api_key: APIKey | None = None,
    received_by: str = "",
) -> tuple[NoticeAnswer, bool]:
    """Record an answer to ``notice`` (or to the notice a reminder reminds of). Returns
    ``(answer, created)``: posting the same answer again returns the first one, unchanged.

    Refused with ``ValidationError`` (nothing written): an unknown kind, a compliance or
    dispute without a statement, a statement over 10,000 characters, a notice that asks for
    no answer, and an acknowledgement after the developer already complied or disputed.
    """
    notice = answerable_notice(notice)
    if kind not in NoticeAnswer.Kind.values:
        raise ValidationError(f"Unknown answer “{kind}”.")
    statement = _normalise(statement)
    if len(statement) > STATEMENT_MAX:
        raise ValidationError(f"Keep the statement under {STATEMENT_MAX:,} characters.")
    if kind == NoticeAnswer.Kind.COMPLIED and not statement:
        raise ValidationError("Say what you did to comply (the statement is sent to the creator).")
    if kind == NoticeAnswer.Kind.DISPUTED and not statement:
        raise ValidationError("Give the reason for the dispute.")
    if via == NoticeAnswer.Via.STAFF:
        received_by = " ".join((received_by or "").split())
        if not received_by:
            raise ValidationError("Say how the answer arrived (an email reply, a letter…).")
    else:
        received_by = ""
    _check_actor(notice, via, user, api_key)
    if not notice.answerable:
        raise ValidationError("This notice asks for no answer.")

    fingerprint = answer_fingerprint(kind, statement)
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        existing = NoticeAnswer.objects.filter(notice=locked, fingerprint=fingerprint).first()
        if existing is not None:
            return existing, False
        if (
            kind == NoticeAnswer.Kind.ACKNOWLEDGED
            and NoticeAnswer.objects.filter(notice=locked, kind__in=FINAL).exists()
        ):
            raise ValidationError(
                "This notice was already answered with compliance or a dispute; "
                "an acknowledgement would add nothing."
            )
        now = timezone.now()
        answer = NoticeAnswer(
            notice=locked,
            kind=kind,
            statement=statement,
            via=via,
            user=user if user is not None and user.is_authenticated else None,
            api_key=api_key,
            received_by=received_by,
            fingerprint=fingerprint,
            created_at=now,
        )
        try:
            with transaction.atomic():
                answer.save(force_insert=True)
        except IntegrityError:  # the same answer, posted twice at once: the first one stands
            return NoticeAnswer.objects.get(notice=locked, fingerprint=fingerprint), False
        if locked.answered_at is None:
            Notice.objects.filter(pk=locked.pk).update(answered_at=now)
            locked.answered_at = now
        notice.answered_at = locked.answered_at
        if via == NoticeAnswer.Via.STAFF:
            audit_record(
                actor=user,
                action="notice.answer_record",
                obj=answer,
                after={"notice": locked.pk, "kind": kind, "received_by": received_by},
            )
        handler = answer_handler_for(locked.topic)
        if handler is not None:
            handler(answer)
    return answer, True
