"""What needs an AI developer's people now (issue 20), at the top of their developer home: the
notices still waiting for their answer, the nearest deadline first, each linked to the page
where it is answered. Two queries at most, whatever the number of notices."""

from datetime import datetime

from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.urls import reverse
from django.utils import timezone

from accounts.needs import Need, due_words

from .models import AIDeveloper, Notice, NoticeAnswer

LIMIT = 10
FINAL = (NoticeAnswer.Kind.COMPLIED, NoticeAnswer.Kind.DISPUTED)


def awaiting_answer(developer: AIDeveloper):
    """The developer's notices (not reminders) that ask for an answer and have no final one
    (complied or disputed) yet — an acknowledgement alone does not settle a notice. Left out:
    those the sender stopped asking about before their deadline (a closed or retracted request
    sets ``overdue_handled_at`` without the deadline run's ``overdue_at``)."""
    final = NoticeAnswer.objects.filter(notice=OuterRef("pk"), kind__in=FINAL)
    acknowledged = NoticeAnswer.objects.filter(notice=OuterRef("pk"))
    return (
        Notice.objects.filter(developer=developer, kind=Notice.Kind.NOTICE, answerable=True)
        .filter(~Exists(final))
        .exclude(Q(overdue_handled_at__isnull=False) & Q(overdue_at__isnull=True))
        .annotate(acknowledged=Exists(acknowledged))
    )


def developer_needs(developer: AIDeveloper, now: datetime | None = None) -> list[Need]:
    """The notices awaiting an answer, the nearest (or longest passed) deadline first; past
    ``LIMIT``, one more item leads to the whole list. One query."""
    now = now or timezone.now()
    rows = list(
        awaiting_answer(developer)
        .annotate(total=Window(Count("pk")))
        .only("pk", "subject", "answer_due_at", "created_at")
        .order_by(F("answer_due_at").asc(nulls_last=True), "created_at", "pk")[:LIMIT]
    )
    needs = []
    for notice in rows:
        due = notice.answer_due_at
        late = due is not None and due <= now
        if notice.acknowledged:
            text = f"Say whether you complied or dispute: {notice.subject}"
        else:
            text = f"Answer: {notice.subject}"
        needs.append(
            Need(
                key="notice",
                text=text,
                url=reverse("answers:developer-notice", args=[notice.pk]),
                when=(f"overdue — {due_words(due, now)}" if late else due_words(due, now))
                if due
                else "no deadline",
                at=due,
                urgent=late,
            )
        )
    total = rows[0].total if rows else 0
    if total > len(rows):
        needs.append(
            Need(
                key="notice-more",
                text=f"{total - len(rows)} more notices awaiting your answer",
                url=reverse("answers:developer-notice-list"),
            )
        )
    return needs
