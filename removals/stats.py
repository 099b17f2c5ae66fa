"""Reads for the staff side of removal requests: the overdue notices of the requests a person
moderates, and the dashboard's numbers — open requests by state and age, overdue notices by
developer, answer and compliance rates per developer by month, median time to answer.

Everything is aggregated in the database, a constant number of queries whatever the number of
requests or notices: counts with ``GROUP BY``, medians with window functions (the one or two
middle rows of each developer's answered notices, ordered by time to answer), so Python never
walks the notices themselves.

The notices of a request are those of the notice engine on its topic (``removal:<id>``): the
answerable ones (not reminders, not retractions). A notice is *overdue* when its deadline passed
without a final answer — complied or disputed; an acknowledgement alone does not settle it
(``overdue_filter``).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import (
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import Window
from django.db.models.functions import Cast, Concat, RowNumber, TruncMonth
from django.utils import timezone

from accounts.models import User
from notices.models import Notice, NoticeAnswer

from .access import moderated_requests
from .models import ComplianceContest, RemovalRequest

Status = RemovalRequest.Status

# Requests still in progress: waiting for a decision, sent back to them, or approved and
# waiting for the developers' answers.
OPEN_STATES = [
    Status.SUBMITTED,
    Status.IN_REVIEW,
    Status.NEEDS_INFO,
    Status.APPROVED,
    Status.CONTESTED,  # a developer's "complied" contested by the creator (issue 20)
]
AGE_BUCKETS = [
    ("recent", "Under 7 days"),
    ("weeks", "7 to 30 days"),
    ("old", "Over 30 days"),
]
MONTHS = 12


# --- Scope -----------------------------------------------------------------------------------


def requests_in_scope(user: User, *, everything_for_superusers: bool = False) -> QuerySet:
    """The requests ``user`` moderates, without duplicates (a creator in two of their guilds
    appears once) so that counts grouped over it are right; with
    ``everything_for_superusers``, a superuser gets every request (the dashboard)."""
    if everything_for_superusers and user.is_active and user.is_superuser:
        return RemovalRequest.objects.all()
    return moderated_requests(user)  # already free of duplicates (no joins)


def request_topics(requests: QuerySet) -> QuerySet:
    """The notice topics (``removal:<id>``) of ``requests``, as a subquery."""
    return (
        requests.order_by()
        .annotate(
            _topic=Concat(Value("removal:"), Cast("pk", CharField()), output_field=CharField())
        )
        .values("_topic")
    )


def removal_notices(requests: QuerySet) -> QuerySet[Notice]:
    """The answerable notices sent for ``requests`` (one per request and developer)."""
    return Notice.objects.filter(
        kind=Notice.Kind.NOTICE,
        answerable=True,
        topic__startswith="removal:",
        topic__in=request_topics(requests),
    )


def request_id_of(notice: Notice) -> int | None:
    try:
        return int(notice.topic.split(":", 1)[1])
    except (IndexError, ValueError):
        return None


# --- Overdue notices -------------------------------------------------------------------------


FINAL_ANSWERS = [NoticeAnswer.Kind.COMPLIED, NoticeAnswer.Kind.DISPUTED]


def overdue_filter(now=None) -> Q:
    """Removal notices whose deadline has passed without a *final* answer (complied or
    disputed), as a filter on ``Notice``. An acknowledgement alone stops the engine's reminders
    and its overdue handler (``answered_at``), but asks are answered only by complying or
    disputing: on the removals side an acknowledged notice past its deadline is still overdue.
    A notice the engine marked overdue (``overdue_at``) is past its deadline too."""
    now = now or timezone.now()
    final = NoticeAnswer.objects.filter(notice=OuterRef("pk"), kind__in=FINAL_ANSWERS)
    return (Q(answer_due_at__lte=now) | Q(overdue_at__isnull=False)) & ~Exists(final)


def overdue_notices(requests: QuerySet, now=None) -> QuerySet[Notice]:
    """Notices past their deadline with no final answer (``overdue_filter``), for the approved
    ones among ``requests`` (a retracted or closed request asks nothing more), by developer,
    most overdue first."""
    approved = requests.filter(status__in=[Status.APPROVED, Status.CONTESTED])
    return (
        removal_notices(approved)
        .filter(overdue_filter(now))
        .select_related("developer")
        .order_by("developer__name", "developer_id", "answer_due_at", "pk")
    )


def with_acknowledgement(notices: QuerySet) -> QuerySet[Notice]:
    """``notices`` with ``acknowledged_at``: when the developer first acknowledged it (None if
    it never did). A subquery, no extra query."""
    first = (
        NoticeAnswer.objects.filter(notice=OuterRef("pk"), kind=NoticeAnswer.Kind.ACKNOWLEDGED)
        .order_by("created_at", "pk")
        .values("created_at")[:1]
    )
    return notices.annotate(acknowledged_at=Subquery(first))


@dataclass(frozen=True)
class OverdueByDeveloper:
    developer_id: int
    name: str
    slug: str
    count: int
    oldest_due: datetime

    @property
    def days_overdue(self) -> int:
        """Days since the oldest of these answers was due."""
        return max((timezone.now() - self.oldest_due).days, 0)


def overdue_by_developer(requests: QuerySet) -> list[OverdueByDeveloper]:
    """How many notices each developer has left overdue (no final answer by the deadline),
    most first. One query."""
    rows = (
        overdue_notices(requests)
        .order_by()
        .values("developer_id", "developer__name", "developer__slug")
        .annotate(count=Count("pk"), oldest_due=Min("answer_due_at"))
        .order_by("-count", "developer__name")
    )
    return [
        OverdueByDeveloper(
            developer_id=r["developer_id"],
            name=r["developer__name"],
            slug=r["developer__slug"],
            count=r["count"],
            oldest_due=r["oldest_due"],
        )
        for r in rows
    ]


# --- Open requests by state and age ----------------------------------------------------------


@dataclass(frozen=True)
class StateAge:
    status: str
    label: str
    buckets: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.buckets.values())


def open_by_state_and_age(requests: QuerySet, now=None) -> list[StateAge]:
    """Open requests in each state, split by how long ago they were submitted. One query."""
    now = now or timezone.now()
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    rows = {
        r["status"]: r
        for r in requests.filter(status__in=OPEN_STATES)
        .order_by()
        .values("status")
        .annotate(
            recent=Count("pk", filter=Q(submitted_at__gt=week)),
            weeks=Count("pk", filter=Q(submitted_at__lte=week, submitted_at__gt=month)),
            old=Count("pk", filter=Q(submitted_at__lte=month) | Q(submitted_at__isnull=True)),
        )
    }
    return [
        StateAge(
            status=status,
            label=Status(status).label,
            buckets={key: rows.get(status, {}).get(key, 0) for key, _ in AGE_BUCKETS},
        )
        for status in OPEN_STATES
    ]


# --- Answers and compliance per developer, by month ------------------------------------------


def month_starts(today: date | None = None, months: int = MONTHS) -> list[date]:
    """The first day of each of the last ``months`` months, oldest first (this one last)."""
    today = today or timezone.localdate()
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


@dataclass
class Figures:
    """Notices sent in a period and what became of them."""

    sent: int = 0
    answered: int = 0
    complied: int = 0
    disputed: int = 0
    # Of the complied ones, those the creator contested (issue 20).
    contested: int = 0

    def add(self, other: "Figures") -> None:
        self.sent += other.sent
        self.answered += other.answered
        self.complied += other.complied
        self.disputed += other.disputed
        self.contested += other.contested

    @property
    def answer_rate(self) -> float | None:
        """Share of the notices that got an answer (any: acknowledged, complied, disputed)."""
        return self.answered / self.sent if self.sent else None

    @property
    def compliance_rate(self) -> float | None:
        """Share of the notices the developer reported it complied with."""
        return self.complied / self.sent if self.sent else None


@dataclass
class DeveloperFigures:
    developer_id: int | None  # None: every developer together
    name: str
    slug: str = ""
    months: dict[date, Figures] = field(default_factory=dict)
    median_seconds: float | None = None
    overdue: int = 0

    @property
    def total(self) -> Figures:
        total = Figures()
        for figures in self.months.values():
            total.add(figures)
        return total


def _answer_flags(notices: QuerySet) -> QuerySet:
    answers = NoticeAnswer.objects.filter(notice=OuterRef("pk"))
    return notices.annotate(
        has_complied=Exists(answers.filter(kind=NoticeAnswer.Kind.COMPLIED)),
        has_disputed=Exists(answers.filter(kind=NoticeAnswer.Kind.DISPUTED)),
        # A contest has a reason from the moment it is made, whatever came after.
        has_contested=Exists(
            ComplianceContest.objects.filter(notice=OuterRef("pk")).exclude(reason="")
        ),
    )


def _window_start(starts: list[date]) -> datetime:
    return timezone.make_aware(datetime.combine(starts[0], time.min))


def _median_rows(notices: QuerySet, partition: list) -> QuerySet:
    """The middle row (or two) of each partition's answered notices, ordered by time to
    answer: ``values_list(*partition, "took")``. One query."""
    took = ExpressionWrapper(F("answered_at") - F("created_at"), output_field=DurationField())
    answered = notices.filter(answered_at__isnull=False).annotate(took=took)
    window = {"partition_by": partition} if partition else {}
    return (
        answered.annotate(
            row=Window(RowNumber(), order_by=[F("took").asc(), F("pk").asc()], **window),
            rows=Window(Count("pk"), **window),
        )
        .filter(row__gte=(F("rows") + 1) / 2, row__lte=(F("rows") + 2) / 2)
        .values_list(*[p.name for p in partition], "took")
    )


def median_seconds_by_developer(notices: QuerySet) -> dict[int, float]:
    middles: dict[int, list[float]] = {}
    for developer_id, took in _median_rows(notices, [F("developer_id")]):
        middles.setdefault(developer_id, []).append(took.total_seconds())
    return {pk: sum(values) / len(values) for pk, values in middles.items()}


def median_seconds(notices: QuerySet) -> float | None:
    values = [took.total_seconds() for (took,) in _median_rows(notices, [])]
    return sum(values) / len(values) if values else None


@dataclass
class Dashboard:
    months: list[date]
    developers: list[DeveloperFigures]
    overall: DeveloperFigures
    open_requests: list[StateAge]
    overdue: list[OverdueByDeveloper]

    @property
    def open_total(self) -> int:
        return sum(row.total for row in self.open_requests)

    @property
    def overdue_total(self) -> int:
        return sum(row.count for row in self.overdue)


def developer_figures(requests: QuerySet, *, today: date | None = None) -> Dashboard:
    """The dashboard's numbers for ``requests``, over the last ``MONTHS`` months (by the
    month each notice was sent, in the portal's time zone). Six queries."""
    starts = month_starts(today)
    start = _window_start(starts)
    notices = removal_notices(requests).filter(created_at__gte=start)
    monthly = (
        _answer_flags(notices)
        .annotate(month=TruncMonth("created_at"))
        .order_by()
        .values("developer_id", "developer__name", "developer__slug", "month")
        .annotate(
            sent=Count("pk"),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            complied=Count("pk", filter=Q(has_complied=True)),
            disputed=Count("pk", filter=Q(has_disputed=True, has_complied=False)),
            contested=Count("pk", filter=Q(has_contested=True)),
        )
    )
    by_developer: dict[int, DeveloperFigures] = {}
    overall = DeveloperFigures(None, "All developers", months={m: Figures() for m in starts})
    for row in monthly:
        month = row["month"]
        if isinstance(month, datetime):
            month = timezone.localtime(month).date() if timezone.is_aware(month) else month.date()
        figures = Figures(
            row["sent"], row["answered"], row["complied"], row["disputed"], row["contested"]
        )
        developer = by_developer.setdefault(
            row["developer_id"],
            DeveloperFigures(
                row["developer_id"],
                row["developer__name"],
                row["developer__slug"],
                months={m: Figures() for m in starts},
            ),
        )
        if month in developer.months:
            developer.months[month].add(figures)
            overall.months[month].add(figures)
    medians = median_seconds_by_developer(notices)
    overall.median_seconds = median_seconds(notices)
    overdue = overdue_by_developer(requests)
    for row in overdue:
        developer = by_developer.setdefault(
            row.developer_id,
            DeveloperFigures(
                row.developer_id, row.name, row.slug, months={m: Figures() for m in starts}
            ),
        )
        developer.overdue = row.count
        overall.overdue += row.count
    for developer in by_developer.values():
        developer.median_seconds = medians.get(developer.developer_id)
    return Dashboard(
        months=starts,
        developers=sorted(by_developer.values(), key=lambda d: (d.name.lower(), d.developer_id)),
        overall=overall,
        open_requests=open_by_state_and_age(requests),
        overdue=overdue,
    )


# --- CSV -------------------------------------------------------------------------------------

CSV_HEADER = [
    "developer",
    "developer_slug",
    "period",
    "notices_sent",
    "answered",
    "answer_rate_percent",
    "complied",
    "compliance_rate_percent",
    "disputed",
    "median_days_to_answer",
    "overdue_now",
    "contested",
]


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}"


def _days(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 86400:.2f}"


def csv_rows(dashboard: Dashboard):
    """The per-developer figures as CSV rows (header first): for each developer one row for
    the whole period (``last-12-months``), then one per month (``YYYY-MM``)."""
    yield CSV_HEADER
    for developer in [*dashboard.developers, dashboard.overall]:
        total = developer.total
        yield [
            developer.name,
            developer.slug,
            f"last-{len(dashboard.months)}-months",
            total.sent,
            total.answered,
            _percent(total.answer_rate),
            total.complied,
            _percent(total.compliance_rate),
            total.disputed,
            _days(developer.median_seconds),
            developer.overdue,
            total.contested,
        ]
        for month in dashboard.months:
            figures = developer.months[month]
            yield [
                developer.name,
                developer.slug,
                month.strftime("%Y-%m"),
                figures.sent,
                figures.answered,
                _percent(figures.answer_rate),
                figures.complied,
                _percent(figures.compliance_rate),
                figures.disputed,
                "",
                "",
                figures.contested,
            ]
