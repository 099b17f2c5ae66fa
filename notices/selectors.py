"""Reads about the AI-developer registry and, below, about notice deliveries."""

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import FieldDoesNotExist
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from accounts.models import AuditEvent

from .models import AIDeveloper, Delivery, DeliveryAttempt, DeveloperContact, Suppression


def developers() -> QuerySet[AIDeveloper]:
    return AIDeveloper.objects.annotate(
        confirmed_contacts=Count(
            "contacts",
            filter=Q(contacts__confirmed_at__isnull=False, contacts__removed_at__isnull=True),
        ),
        pending_contacts=Count(
            "contacts",
            filter=Q(contacts__confirmed_at__isnull=True, contacts__removed_at__isnull=True),
        ),
    ).order_by("name")


def registry_summary() -> dict:
    return AIDeveloper.objects.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(is_active=True)),
    )


def registry_changes() -> QuerySet[AuditEvent]:
    """Every recorded edit of the registry (developers and contacts), newest first. Staff
    actions on deliveries and suppressions have their own pages."""
    return AuditEvent.objects.filter(
        object_type__in=[AIDeveloper._meta.label_lower, DeveloperContact._meta.label_lower]
    ).select_related("actor")


def developer_contacts(developer: AIDeveloper) -> QuerySet[DeveloperContact]:
    """Every contact of ``developer``, removed ones too (shown as such), oldest first."""
    return DeveloperContact.objects.filter(developer=developer).select_related(
        "added_by__creator_profile", "removed_by__creator_profile"
    )


def developer_changes(developer: AIDeveloper) -> QuerySet[AuditEvent]:
    """The audit rows of ``developer`` and of all its contacts, newest first, in one query."""
    contact_ids = (
        DeveloperContact.objects.filter(developer=developer)
        .annotate(object_id_text=Cast("pk", CharField()))
        .values("object_id_text")
    )
    return AuditEvent.objects.filter(
        Q(object_type=AIDeveloper._meta.label_lower, object_id=str(developer.pk))
        | Q(object_type=DeveloperContact._meta.label_lower, object_id__in=contact_ids)
    ).order_by("-created_at", "-pk")


ACTION_LABELS = {
    "developer.create": "Added the developer",
    "developer.update": "Edited the developer",
    "contact.add": "Added a notice contact",
    "contact.resend": "Sent the confirmation link again",
    "contact.confirm": "Address confirmed by its recipient",
    "contact.remove": "Removed a notice contact",
    "developer.digest_frequency": "Changed the consent digest",
}


@dataclass(frozen=True)
class Change:
    field: str
    before: object
    after: object


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent
    what: str
    subject: str
    changes: list[Change] = field(default_factory=list)


def _field_label(name: str) -> str:
    for model in (AIDeveloper, DeveloperContact):
        try:
            return str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # e.g. "state", which is no field
            continue
    return name.replace("_", " ")


def _shown(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and "\n" in value:
        return ", ".join(line for line in value.splitlines() if line)
    return value


def _changes(before: dict | None, after: dict | None) -> list[Change]:
    before, after = before or {}, after or {}
    return [
        Change(_field_label(name), _shown(before.get(name)), _shown(after.get(name)))
        for name in dict.fromkeys([*before, *after])
        if before.get(name) != after.get(name)
    ]


def developer_history(developer: AIDeveloper, limit: int = 100) -> list[HistoryEntry]:
    """``developer_changes`` ready to show: what happened, to what, and which fields changed."""
    entries = []
    for event in developer_changes(developer)[:limit]:
        is_contact = event.object_type == DeveloperContact._meta.label_lower
        subject = (event.after or event.before or {}).get("email", "") if is_contact else ""
        entries.append(
            HistoryEntry(
                event=event,
                what=ACTION_LABELS.get(event.action, event.action),
                subject=subject,
                changes=_changes(event.before, event.after),
            )
        )
    return entries


# --- Deliveries (staff pages) ---------------------------------------------------------------------


def _visible(qs: QuerySet, visible: Q | None) -> QuerySet:
    """``qs`` narrowed to ``visible`` (``handlers.staff_notice_filter``; None: everything)."""
    return qs if visible is None else qs.filter(visible)


def deliveries(
    *,
    status: str = "",
    developer: AIDeveloper | None = None,
    channel: str = "",
    topic: str = "",
    visible: Q | None = None,
) -> QuerySet[Delivery]:
    """Deliveries, newest first, with their notice and developer (one query a page); only
    those of the notices ``visible`` lets the reader see (a filter on ``Delivery``)."""
    qs = _visible(
        Delivery.objects.select_related("notice__developer").order_by("-created_at", "-pk"),
        visible,
    )
    if status:
        qs = qs.filter(status=status)
    if developer is not None:
        qs = qs.filter(notice__developer=developer)
    if channel:
        qs = qs.filter(channel=channel)
    if topic:
        qs = qs.filter(notice__topic__startswith=topic)
    return qs


def status_counts(qs: QuerySet[Delivery]) -> dict[str, int]:
    """How many of ``qs`` are in each status, every status present (one query)."""
    counts = dict.fromkeys(Delivery.Status.values, 0)
    counts.update(
        qs.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return counts


def delivery_detail(pk: int, visible: Q | None = None) -> Delivery | None:
    return (
        _visible(Delivery.objects.select_related("notice__developer", "notice__reminds"), visible)
        .filter(pk=pk)
        .first()
    )


def delivery_attempts(delivery: Delivery) -> QuerySet[DeliveryAttempt]:
    return delivery.attempt_log.order_by("-started_at", "-pk")


def delivery_history(delivery: Delivery) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        object_type=Delivery._meta.label_lower, object_id=str(delivery.pk)
    ).select_related("actor")


def suppressions(*, cleared: bool = False, visible: Q | None = None) -> QuerySet[Suppression]:
    """The suppression list (the addresses are the developers'); each row's ``notice_visible``
    says whether the reader may see the notice whose delivery was refused (``visible``, a
    filter on ``Suppression``)."""
    qs = Suppression.objects.select_related("cleared_by", "delivery__notice__developer").annotate(
        notice_visible=Value(True)
        if visible is None
        else ExpressionWrapper(visible, output_field=BooleanField())
    )
    if cleared:
        return qs.filter(cleared_at__isnull=False).order_by("-cleared_at", "-pk")
    return qs.active().order_by("-created_at", "-pk")


def active_suppression(address: str) -> Suppression | None:
    return Suppression.objects.active().filter(address=address.strip().lower()).first()


@dataclass(frozen=True)
class DeveloperRates:
    developer_id: int
    name: str
    slug: str
    total: int
    delivered: int
    failed: int
    suppressed: int
    pending: int
    median_seconds: float | None

    @property
    def delivered_rate(self) -> float | None:
        return self.delivered / self.total if self.total else None


def developer_rates(*, since, visible: Q | None = None) -> list[DeveloperRates]:
    """Per developer, for deliveries created since ``since`` (of the notices ``visible`` lets
    the reader see): how many, how many delivered, failed, suppressed and still pending, and
    the median time from queued to delivered. Two queries; the median is taken in Python over
    the window's delivered rows."""
    status = Delivery.Status
    seen = _visible(Delivery.objects.all(), visible)
    rows = (
        seen.filter(created_at__gte=since)
        .values("notice__developer_id", "notice__developer__name", "notice__developer__slug")
        .annotate(
            total=Count("pk"),
            delivered=Count("pk", filter=Q(status=status.DELIVERED)),
            failed=Count("pk", filter=Q(status=status.FAILED)),
            suppressed=Count("pk", filter=Q(status=status.SUPPRESSED)),
            pending=Count("pk", filter=Q(status__in=Delivery.PENDING)),
        )
        .order_by("notice__developer__name")
    )
    durations: dict[int, list[float]] = {}
    for developer_id, took in (
        seen.filter(created_at__gte=since, status=status.DELIVERED)
        .annotate(took=ExpressionWrapper(F("delivered_at") - F("created_at"), DurationField()))
        .values_list("notice__developer_id", "took")
        .iterator(chunk_size=5000)
    ):
        if took is not None:
            durations.setdefault(developer_id, []).append(took.total_seconds())
    return [
        DeveloperRates(
            developer_id=row["notice__developer_id"],
            name=row["notice__developer__name"],
            slug=row["notice__developer__slug"],
            total=row["total"],
            delivered=row["delivered"],
            failed=row["failed"],
            suppressed=row["suppressed"],
            pending=row["pending"],
            median_seconds=(
                statistics.median(durations[row["notice__developer_id"]])
                if durations.get(row["notice__developer_id"])
                else None
            ),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ChartDay:
    day: date
    sent: int
    delivered: int


def daily_counts(
    *, days: int = 30, today: date | None = None, visible: Q | None = None
) -> list[ChartDay]:
    """Notices sent (deliveries queued: one per notice and address) and delivered on each of
    the last ``days`` days, in the portal's time zone, oldest first, of the notices ``visible``
    lets the reader see. Two queries."""
    seen = _visible(Delivery.objects.all(), visible)
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    sent = dict(
        seen.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    delivered = dict(
        seen.filter(delivered_at__gte=start)
        .annotate(day=TruncDate("delivered_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    return [
        ChartDay(day, sent.get(day, 0), delivered.get(day, 0))
        for day in (first + timedelta(days=i) for i in range(days))
    ]


# --- Answers -------------------------------------------------------------------------------------


def answers_by_topic(topics) -> dict[str, list]:
    """``{topic: [answer, …]}`` oldest first, each with its notice and developer: what a caller
    shows its users (a creator's timeline). One query, whatever the number of topics."""
    from .models import NoticeAnswer

    topics = list(topics)
    found: dict[str, list] = {topic: [] for topic in topics}
    answers = (
        NoticeAnswer.objects.filter(notice__topic__in=topics)
        .select_related("notice", "notice__developer")
        .order_by("created_at", "pk")
    )
    for answer in answers:
        found[answer.notice.topic].append(answer)
    return found
