"""What needs this person now, at the top of their dashboard (issue 20): each item one click
from the page where it is acted on. A constant number of queries whatever the data: a creator's
requests that wait on them in one query, each queue one aggregate.

- A creator: their guild's questions, developers' "complied" answers they may still accept or
  contest (the soonest deadline first), developers' other recent answers, notices overdue,
  possible conflicts with other creators' claims, findings in datasets to confirm.
- Guild staff (and administrators, for what is routed to them): membership claims, works'
  claims, conflicts, removal requests waiting and requests whose creator contests a developer's
  "complied" — the oldest first, with their age — and removal notices overdue. Administrators
  also see deliveries that failed.

An AI developer's panel is ``notices.needs`` (``notices`` reads no other app)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    CharField,
    Count,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.timesince import timeuntil

from accounts import selectors as account_selectors
from accounts.models import User
from accounts.needs import Need, age_words
from disclosures import creator as findings_selectors
from notices.models import Delivery, Notice, NoticeAnswer
from removals.access import moderated_requests
from removals.models import ComplianceContest, RemovalEvent, RemovalRequest
from removals.stats import overdue_filter, overdue_notices
from works import selectors as work_selectors
from works.conflicts import conflict_queue

# At most this many items of one kind (a creator's questions, answers, overdue requests); the
# rest are counted and reached from the list they belong to.
LIMIT = 5
# A developer's answer stays on the creator's panel this many days (the time they have to
# contest a "complied").
ANSWERS_DAYS_DEFAULT = 30

Status = RemovalRequest.Status
State = ComplianceContest.State
# A request whose notices still stand: its developers' answers are awaited, accepted or contested.
LIVE = [Status.APPROVED, Status.CONTESTED]


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _title(request_title: str, pk: int) -> str:
    return "“" + Truncator(request_title or f"Removal request {pk}").chars(60) + "”"


def _topic_of_outer() -> Concat:
    return Concat(Value("removal:"), Cast(OuterRef("pk"), CharField()), output_field=CharField())


def _requests_needing(user: User, now: datetime) -> list[RemovalRequest]:
    """Their requests that wait on them, each with what does — in one query whatever the number
    of requests, notices and answers:

    - ``asked_at``: when the reviewing staff asked the question it waits on (``needs_info``);
    - ``overdue_n``, ``overdue_due``: its notices past the deadline with no final answer
      (``stats.overdue_filter``: first notices and follow-ups alike, on approved or contested
      requests) and the earliest of those deadlines;
    - ``answer_at``, ``answer_kind``, ``answer_developer``, ``answers_n``: developers' answers
      within the days they have to contest one, on a request still open — the latest of them,
      and how many. A "complied" with a contest window is left out: while the window is open it
      is an item of its own, and once accepted, contested or replaced the creator has nothing
      more to do with it;
    - ``window_pk``, ``window_ends``, ``window_developer``: a developer's "complied" they may
      still accept or contest (a window open on a live request). A request comes once per open
      window (or once, with these empty, when it has none)."""
    days = getattr(settings, "REMOVALS_CONTEST_DAYS", ANSWERS_DAYS_DEFAULT)
    asked = (
        RemovalEvent.objects.filter(
            request=OuterRef("pk"), action=RemovalEvent.Action.INFO_REQUESTED
        )
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    overdue = (
        Notice.objects.filter(topic=_topic_of_outer(), kind=Notice.Kind.NOTICE, answerable=True)
        .filter(overdue_filter(now))
        .order_by()
        .values("topic")
    )
    answers = NoticeAnswer.objects.filter(
        notice__topic=_topic_of_outer(),
        created_at__gte=now - timedelta(days=days),
        compliance_contest__isnull=True,
    )
    latest = answers.order_by("-created_at", "-pk")
    answer_count = answers.order_by().values("notice__topic").annotate(n=Count("pk")).values("n")
    settled = [Status.CLOSED, Status.RETRACTED, Status.WITHDRAWN, Status.REJECTED]
    return list(
        RemovalRequest.objects.filter(creator=user)
        .annotate(
            open_window=FilteredRelation(
                "compliance_contests",
                condition=Q(
                    compliance_contests__state=State.OPEN,
                    compliance_contests__window_ends_at__gt=now,
                ),
            ),
            window_pk=F("open_window__pk"),
            window_ends=F("open_window__window_ends_at"),
            window_developer=F("open_window__developer__name"),
            asked_at=Subquery(asked),
            overdue_n=Coalesce(Subquery(overdue.annotate(n=Count("pk")).values("n")), Value(0)),
            overdue_due=Subquery(overdue.annotate(d=Min("answer_due_at")).values("d")),
            answer_at=Subquery(latest.values("created_at")[:1]),
            answer_kind=Subquery(latest.values("kind")[:1]),
            answer_developer=Subquery(latest.values("notice__developer__name")[:1]),
            answers_n=Coalesce(Subquery(answer_count), Value(0)),
        )
        .filter(
            Q(status=Status.NEEDS_INFO)
            | Q(status__in=LIVE, overdue_n__gt=0)
            | (~Q(status__in=settled) & Q(answers_n__gt=0))
            | Q(status__in=LIVE, window_pk__isnull=False)
        )
        .only("pk", "title", "status")
        .order_by("pk", "window_ends", "window_pk")
    )


def _left(until: datetime, now: datetime) -> str:
    """How long until ``until``, in its largest unit: "29 days", "less than a day"."""
    if until - now < timedelta(days=1):
        return "less than a day"
    return timeuntil(until, now, depth=1)


def _window_need(r: RemovalRequest, now: datetime) -> Need:
    """A developer's "complied" the creator may still accept or contest, by its deadline."""
    day = f"{timezone.localtime(r.window_ends):%-d %B %Y}"
    return Need(
        key="complied",
        text=(
            f"{r.window_developer} reported they complied with {_title(r.title, r.pk)} — "
            f"accept or contest by {day}"
        ),
        url=reverse("removals:detail", args=[r.pk]) + f"#contest-{r.window_pk}",
        when=f"{_left(r.window_ends, now)} left",
        at=r.window_ends,
        urgent=r.window_ends - now < timedelta(days=1),
    )


def _capped(needs: list[Need], key: str, one: str, many: str) -> list[Need]:
    """The first ``LIMIT`` of ``needs``; the rest as one item leading to their requests."""
    if len(needs) <= LIMIT:
        return needs
    rest = len(needs) - LIMIT
    return needs[:LIMIT] + [
        Need(
            key=f"{key}-more",
            text=f"{rest} more {one if rest == 1 else many}",
            url=reverse("removals:list"),
        )
    ]


def _request_needs(user: User, now: datetime) -> list[Need]:
    """Their guild's questions (the oldest first), developers' "complied" answers open to
    contest (the soonest deadline first, one item per answer), developers' other answers (the
    newest first), and requests with overdue notices (the longest overdue first): one item per
    request each (one per answer for the first). One query."""
    questions, windows, answers, overdue = [], [], [], []
    seen = set()
    for r in _requests_needing(user, now):
        if r.window_pk is not None and r.status in LIVE:
            windows.append(_window_need(r, now))
        if r.pk in seen:  # the same request again, for its next open window
            continue
        seen.add(r.pk)
        url = reverse("removals:detail", args=[r.pk])
        title = _title(r.title, r.pk)
        if r.status == Status.NEEDS_INFO:
            questions.append(
                Need(
                    key="question",
                    text=f"Answer the question about {title}",
                    url=url,
                    when=f"asked {age_words(r.asked_at, now)} ago" if r.asked_at else "",
                    at=r.asked_at,
                )
            )
        if r.answers_n and r.status not in (Status.CLOSED, Status.RETRACTED):
            kind = NoticeAnswer.Kind(r.answer_kind).label.lower()
            more = f" (and {_plural(r.answers_n - 1, 'more answer')})" if r.answers_n > 1 else ""
            answers.append(
                Need(
                    key="answer",
                    text=f"{r.answer_developer} answered {title}: {kind}{more}",
                    url=url,
                    when=f"{age_words(r.answer_at, now)} ago",
                    at=r.answer_at,
                )
            )
        if r.status in LIVE and r.overdue_n:
            overdue.append(
                Need(
                    key="overdue",
                    text=(
                        f"{_plural(r.overdue_n, 'developer')} did not answer {title} "
                        "by the deadline"
                    ),
                    url=url,
                    count=r.overdue_n,
                    when=f"overdue {age_words(r.overdue_due, now)}",
                    at=r.overdue_due,
                    urgent=True,
                )
            )
    questions.sort(key=lambda n: (n.at is not None, n.at or now))
    windows.sort(key=lambda n: n.at)
    answers.sort(key=lambda n: n.at, reverse=True)
    overdue.sort(key=lambda n: n.at)
    return [
        *_capped(questions, "question", "question", "questions"),
        *_capped(
            windows,
            "complied",
            "answer to accept or contest",
            "answers to accept or contest",
        ),
        *_capped(answers, "answer", "request with answers", "requests with answers"),
        *_capped(
            overdue, "overdue", "request with overdue answers", "requests with overdue answers"
        ),
    ]


def _conflicts(n: int) -> list[Need]:
    if not n:
        return []
    return [
        Need(
            key="conflicts",
            text=f"{_plural(n, 'possible conflict')} with another creator's claim",
            url=reverse("works:list") + "?conflict=open&status=all",
            count=n,
        )
    ]


def _findings(n: int) -> list[Need]:
    if not n:
        return []
    return [
        Need(
            key="findings",
            text=f"{_plural(n, 'finding')} in AI datasets to confirm or dismiss",
            url=reverse("findings:list") + "?state=new",
            count=n,
        )
    ]


def creator_needs(
    user: User,
    now: datetime | None = None,
    *,
    conflicts: int | None = None,
    findings: int | None = None,
) -> list[Need]:
    """What waits on a creator, in the issue's order: their guild's questions, developers'
    answers, overdue notices, possible conflicts, findings to confirm. One query whatever
    the number of requests, notices, answers or works, and one each for the conflicts and
    findings counts unless the dashboard, which shows them too, passes them in."""
    now = now or timezone.now()
    if conflicts is None:
        conflicts = work_selectors.counts_for_owner(user)["conflicts"]
    if findings is None:
        findings = findings_selectors.new_findings_count(user)
    return [
        *_request_needs(user, now),
        *_conflicts(conflicts),
        *_findings(findings),
    ]


# --- Guild staff and administrators ---------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    """One queue waiting on staff: how many, and since when its oldest has waited."""

    count: int
    oldest: datetime | None


def _queue(qs, field: str) -> Queue:
    found = qs.order_by().aggregate(n=Count("pk", distinct=True), oldest=Min(field))
    return Queue(found["n"], found["oldest"])


def _removal_queues(moderated) -> tuple[Queue, Queue]:
    """Requests to review (waiting since they were submitted) and contested ones (waiting since
    the creator contested a developer's "complied", for staff to ask the developer again) —
    both listed under "Waiting for a decision" in the staff's removal queue: one query."""
    contested_at = Q(compliance_contests__state=State.CONTESTED)
    found = (
        moderated.filter(status__in=[*RemovalRequest.OPEN_FOR_REVIEW, Status.CONTESTED])
        .order_by()
        .aggregate(
            n=Count("pk", distinct=True, filter=Q(status__in=RemovalRequest.OPEN_FOR_REVIEW)),
            oldest=Min("submitted_at", filter=Q(status__in=RemovalRequest.OPEN_FOR_REVIEW)),
            contested_n=Count("pk", distinct=True, filter=Q(status=Status.CONTESTED)),
            contested_oldest=Min(
                "compliance_contests__decided_at", filter=Q(status=Status.CONTESTED) & contested_at
            ),
        )
    )
    return (
        Queue(found["n"], found["oldest"]),
        Queue(found["contested_n"], found["contested_oldest"]),
    )


def staff_queues(user: User, now: datetime | None = None) -> dict[str, Queue]:
    """Every queue that waits on ``user`` (their guilds'; for a superuser also what is routed to
    administrators): one aggregate query each (requests to review and contested ones together),
    five in all."""
    now = now or timezone.now()
    moderated = moderated_requests(user)
    to_review, contested = _removal_queues(moderated)
    return {
        "membership-claims": _queue(account_selectors.membership_queue(user), "claimed_at"),
        "work-claims": _queue(work_selectors.claim_queue(user), "claim_requested_at"),
        "conflicts": _queue(conflict_queue(user), "created_at"),
        "removal-requests": to_review,
        "contested-requests": contested,
        "overdue-notices": _queue(overdue_notices(moderated, now), "answer_due_at"),
    }


def failed_deliveries() -> Queue:
    """Deliveries that failed for good (administrators): one query."""
    return _queue(Delivery.objects.filter(status=Delivery.Status.FAILED), "created_at")


QUEUE_WORDS = {
    # key: (one, many, the page, what the age says)
    "membership-claims": (
        "membership claim to decide",
        "membership claims to decide",
        "accounts:membership-queue",
        "waiting",
    ),
    "work-claims": (
        "work's claim to verify",
        "works' claims to verify",
        "works:claim-queue",
        "waiting",
    ),
    "conflicts": (
        "conflict between claims",
        "conflicts between claims",
        "works:conflict-queue",
        "open",
    ),
    "removal-requests": ("removal request to review", None, "removals-staff:queue", "waiting"),
    # Listed under "Waiting for a decision" too; each request's page has "Ask … again".
    "contested-requests": (
        "request whose creator contests a developer's “complied”",
        "requests whose creator contests a developer's “complied”",
        "removals-staff:queue",
        "waiting",
    ),
    "overdue-notices": (
        "removal notice overdue",
        "removal notices overdue",
        "removals-staff:overdue",
        "overdue",
    ),
    "failed-deliveries": (
        "notice that could not be delivered",
        "notices that could not be delivered",
        "notices:delivery-list",
        "failed",
    ),
}
QUERIES = {"failed-deliveries": "?status=failed"}


def queue_needs(queues: dict[str, Queue], now: datetime | None = None) -> list[Need]:
    """The non-empty queues, the one whose oldest item has waited longest first, each with its
    count and that age."""
    now = now or timezone.now()
    needs = []
    for key, queue in queues.items():
        if not queue.count:
            continue
        one, many, url_name, age = QUEUE_WORDS[key]
        needs.append(
            Need(
                key=key,
                text=_plural(queue.count, one, many),
                url=reverse(url_name) + QUERIES.get(key, ""),
                count=queue.count,
                when=(
                    f"oldest {age} {age_words(queue.oldest, now)}"
                    if queue.count > 1
                    else f"{age} {age_words(queue.oldest, now)}"
                )
                if queue.oldest
                else "",
                at=queue.oldest,
                urgent=key in ("overdue-notices", "failed-deliveries"),
            )
        )
    far_past = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(needs, key=lambda need: need.at or far_past)
