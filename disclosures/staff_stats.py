"""What guild staff see of disclosures (docs/disclosures.md, "For guild staff"): per disclosure,
how many of their members' works were found, how many members that is, what the members decided,
and how many removal requests followed; and those figures over time.

**Scope.** Staff see the findings about the works and sites of their guilds' *verified* members
— nothing of any other creator; superusers see every creator's. Only disclosures whose
matching is done count (as for creators), and a finding its creator dismissed ("not my work")
counts as found nowhere (it is counted apart, as dismissed).

**Requests that followed** a disclosure: removal requests of the members found in it (a
dismissed finding does not make one) that name its developer — or every developer — and were
created at or after the disclosure; only requests that reached staff count (a draft, or one
withdrawn before staff saw it, is the creator's alone, as in ``removals.access``). A request
that followed two disclosures of the same developer counts for each.

Everything is aggregated in the database: a constant number of queries whatever the number of
disclosures, findings, members or requests.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone

from accounts.models import Guild, GuildMembership, User
from removals.access import reached_staff_filter, staff_guild_ids
from removals.models import RemovalRequest
from works.models import Work
from works_registry.models import Site

from .models import Disclosure, Finding

DONE = Disclosure.State.DONE
DISMISSED = Finding.State.DISMISSED
CONFIRMED = Finding.State.CONFIRMED
OWNER = Coalesce("work__owner_id", "site__owner_id")
MONTHS = 12
WEEKS = 12
Named = RemovalRequest.developers.through


# --- Scope -------------------------------------------------------------------------------------


def sees_everyone(user: User) -> bool:
    return user.is_active and user.is_superuser


def members(user: User) -> QuerySet | None:
    """The user ids of the creators ``user`` sees, as a subquery; ``None``: everyone."""
    if sees_everyone(user):
        return None
    return GuildMembership.objects.filter(
        status=GuildMembership.Status.VERIFIED, guild_id__in=staff_guild_ids(user)
    ).values("user_id")


def guilds(user: User) -> QuerySet[Guild]:
    """The guilds whose members ``user`` sees (each gets a row on a disclosure's page)."""
    if sees_everyone(user):
        return Guild.objects.order_by("name")
    return Guild.objects.filter(pk__in=staff_guild_ids(user)).order_by("name")


def findings_in_scope(user: User) -> QuerySet[Finding]:
    """Findings, of done disclosures, about the works and sites of the creators ``user`` sees
    — dismissed ones included (filter them out to count what was found)."""
    findings = Finding.objects.filter(disclosure__state=DONE)
    scope = members(user)
    if scope is None:
        return findings
    works = Work.objects.filter(owner_id__in=scope).order_by().values("pk")
    sites = Site.objects.filter(owner_id__in=scope).order_by().values("pk")
    return findings.filter(Q(work__in=works) | Q(site__in=sites))


def disclosures_in_scope(user: User) -> QuerySet[Disclosure]:
    """Done disclosures in which a creator ``user`` sees has a finding, newest first."""
    return (
        Disclosure.objects.filter(
            state=DONE,
            pk__in=findings_in_scope(user).order_by().values("disclosure_id"),
        )
        .select_related("developer")
        .order_by("-created_at", "-pk")
    )


def disclosure_for_staff(user: User, pk: int) -> Disclosure | None:
    return disclosures_in_scope(user).filter(pk=pk).first()


# --- Removal requests that followed ----------------------------------------------------------


def _count(queryset) -> Subquery:
    """``SELECT COUNT(*)`` of ``queryset`` as a subquery (0 when empty)."""
    counted = queryset.order_by().annotate(_n=Func(F("pk"), function="COUNT")).values("_n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def requests_following(user: User, disclosure_ref) -> QuerySet[RemovalRequest]:
    """Requests that followed a disclosure (``disclosure_ref``: its pk, or ``OuterRef``s to a
    disclosure's fields through ``_following_refs``): by the creators ``user`` sees who were
    found in it, naming its developer (or every developer), created at or after it, and
    reached staff."""
    pk, developer_id, created_at = disclosure_ref
    found = (
        findings_in_scope(user)
        .filter(disclosure_id=pk)
        .exclude(state=DISMISSED)
        .annotate(_owner=OWNER)
        .order_by()
        .values("_owner")
    )
    named = Named.objects.filter(removalrequest_id=OuterRef("pk"), aideveloper_id=developer_id)
    return RemovalRequest.objects.filter(
        reached_staff_filter(),
        Q(all_developers=True) | Exists(named),
        creator_id__in=found,
        created_at__gte=created_at,
    )


def _of(disclosure: Disclosure):
    return disclosure.pk, disclosure.developer_id, disclosure.created_at


def _outer():
    """The disclosure's fields seen from inside the request subquery of an annotation."""
    return OuterRef(OuterRef("pk")), OuterRef(OuterRef("developer_id")), OuterRef("created_at")


# --- Figures ---------------------------------------------------------------------------------


@dataclass
class Figures:
    works: int = 0  # works and sites found (not dismissed)
    creators: int = 0  # members with something found
    findings: int = 0  # rows × works (not dismissed)
    confirmed: int = 0
    dismissed: int = 0
    requests: int = 0


def _aggregates():
    kept = ~Q(state=DISMISSED)
    return {
        "found_works": Count("work_id", distinct=True, filter=kept),
        "found_sites": Count("site_id", distinct=True, filter=kept),
        "creators": Count(OWNER, distinct=True, filter=kept),
        "findings": Count("pk", filter=kept),
        "confirmed": Count("pk", filter=Q(state=CONFIRMED)),
        "dismissed": Count("pk", filter=Q(state=DISMISSED)),
    }


def _figures(row: dict | None, requests: int = 0) -> Figures:
    if not row:
        return Figures(requests=requests)
    return Figures(
        works=row["found_works"] + row["found_sites"],
        creators=row["creators"],
        findings=row["findings"],
        confirmed=row["confirmed"],
        dismissed=row["dismissed"],
        requests=requests,
    )


def with_figures(user: User, disclosures: list[Disclosure]) -> list[Disclosure]:
    """Set ``figures`` on each of ``disclosures`` (a page of them): two queries."""
    ids = [d.pk for d in disclosures]
    rows = {
        row["disclosure_id"]: row
        for row in findings_in_scope(user)
        .filter(disclosure_id__in=ids)
        .values("disclosure_id")
        .order_by("disclosure_id")
        .annotate(**_aggregates())
    }
    requests = dict(
        Disclosure.objects.filter(pk__in=ids)
        .annotate(_requests=_count(requests_following(user, _outer())))
        .values_list("pk", "_requests")
    )
    for disclosure in disclosures:
        disclosure.figures = _figures(rows.get(disclosure.pk), requests.get(disclosure.pk, 0))
    return disclosures


@dataclass
class GuildRow:
    guild: Guild
    figures: Figures = field(default_factory=Figures)


def by_guild(user: User, disclosure: Disclosure) -> list[GuildRow]:
    """One row per guild ``user`` sees with a member found in ``disclosure``: members found,
    works found, decisions and requests. A creator in two of these guilds counts in both."""
    scope = guilds(user)
    kept = ~Q(state=DISMISSED)
    verified = GuildMembership.Status.VERIFIED
    findings = Finding.objects.filter(disclosure=disclosure)
    rows: dict[int, dict] = {}

    def add(guild_id, key, value):
        rows.setdefault(guild_id, {}).setdefault(key, 0)
        rows[guild_id][key] += value

    for target in ("work", "site"):
        path = f"{target}__owner__memberships"
        for row in (
            findings.filter(**{f"{path}__status": verified, f"{path}__guild__in": scope})
            .values(_guild=F(f"{path}__guild_id"))
            .order_by("_guild")
            .annotate(
                found=Count(f"{target}_id", distinct=True, filter=kept),
                findings=Count("pk", distinct=True, filter=kept),
                confirmed=Count("pk", distinct=True, filter=Q(state=CONFIRMED)),
                dismissed=Count("pk", distinct=True, filter=Q(state=DISMISSED)),
            )
        ):
            for key in ("found", "findings", "confirmed", "dismissed"):
                add(row["_guild"], key, row[key])
    found = findings.exclude(state=DISMISSED).annotate(_owner=OWNER).order_by().values("_owner")
    for row in (
        GuildMembership.objects.filter(status=verified, guild__in=scope, user_id__in=found)
        .values("guild_id")
        .order_by("guild_id")
        .annotate(n=Count("user_id", distinct=True))
    ):
        add(row["guild_id"], "creators", row["n"])
    for row in (
        requests_following(user, _of(disclosure))
        .filter(creator__memberships__status=verified, creator__memberships__guild__in=scope)
        .values(_guild=F("creator__memberships__guild_id"))
        .order_by("_guild")
        .annotate(n=Count("pk", distinct=True))
    ):
        add(row["_guild"], "requests", row["n"])
    names = Guild.objects.in_bulk(list(rows))
    return [
        GuildRow(
            names[guild_id],
            Figures(
                works=row.get("found", 0),
                creators=row.get("creators", 0),
                findings=row.get("findings", 0),
                confirmed=row.get("confirmed", 0),
                dismissed=row.get("dismissed", 0),
                requests=row.get("requests", 0),
            ),
        )
        for guild_id, row in sorted(rows.items(), key=lambda item: names[item[0]].name)
        if row.get("creators")
    ]


def totals(user: User, disclosure: Disclosure) -> Figures:
    """The figures of one disclosure over every creator ``user`` sees (a creator once)."""
    row = findings_in_scope(user).filter(disclosure=disclosure).aggregate(**_aggregates())
    return _figures(row, requests_following(user, _of(disclosure)).count())


# --- Over time -------------------------------------------------------------------------------


@dataclass
class Period:
    start: date
    label: str
    long_label: str
    unit: str = "month"  # or "week"
    works: int = 0
    requests: int = 0


def _months(until: date, count: int) -> list[date]:
    first = until.replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return months[::-1]


def _local_date(value) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _series(periods: list[Period], findings, requests, trunc) -> list[Period]:
    by_start = {p.start: p for p in periods}
    kept = ~Q(state=DISMISSED)
    for row in (
        findings.filter(kept)
        .annotate(_period=trunc("created_at"))
        .values("_period")
        .order_by("_period")
        .annotate(works=Count("work_id", distinct=True), sites=Count("site_id", distinct=True))
    ):
        period = by_start.get(_local_date(row["_period"]))
        if period is not None:
            period.works += row["works"] + row["sites"]
    for row in (
        requests.annotate(_period=trunc("created_at"))
        .values("_period")
        .order_by("_period")
        .annotate(n=Count("pk", distinct=True))
    ):
        period = by_start.get(_local_date(row["_period"]))
        if period is not None:
            period.requests += row["n"]
    return periods


def monthly(user: User, *, today: date | None = None) -> list[Period]:
    """The last ``MONTHS`` months: works of the creators ``user`` sees found in disclosures
    (a work found twice in a month counts once), and the requests that followed any of them."""
    today = today or timezone.localdate()
    periods = [Period(m, m.strftime("%b %y"), m.strftime("%B %Y")) for m in _months(today, MONTHS)]
    since = timezone.make_aware(datetime.combine(periods[0].start, datetime.min.time()))
    findings = findings_in_scope(user).filter(created_at__gte=since)
    # A finding of the request's creator in a disclosure made before it…
    found_before = (
        findings_in_scope(user)
        .exclude(state=DISMISSED)
        .filter(
            Q(work__owner_id=OuterRef("creator_id")) | Q(site__owner_id=OuterRef("creator_id")),
            disclosure__created_at__lte=OuterRef("created_at"),
        )
    )
    # …whose developer the request names (or it names every developer).
    named = Named.objects.filter(removalrequest_id=OuterRef(OuterRef("pk"))).values(
        "aideveloper_id"
    )
    requests = RemovalRequest.objects.filter(
        reached_staff_filter(),
        Q(Q(all_developers=True), Exists(found_before))
        | Q(Exists(found_before.filter(disclosure__developer_id__in=named))),
        created_at__gte=since,
    )
    return _series(periods, findings, requests, TruncMonth)


def weekly(user: User, disclosure: Disclosure, *, today: date | None = None) -> list[Period]:
    """One disclosure over time, from the week it was disclosed (the last ``WEEKS`` weeks; by
    month, the last ``MONTHS``, once it is older than that): its works found — at the first
    run, then by re-matches — and the requests that followed it."""
    today = today or timezone.localdate()
    disclosed = timezone.localtime(disclosure.created_at).date()
    findings = findings_in_scope(user).filter(disclosure=disclosure)
    requests = requests_following(user, _of(disclosure))
    this_week = today - timedelta(days=today.weekday())
    first_week = disclosed - timedelta(days=disclosed.weekday())
    weeks = (this_week - first_week).days // 7 + 1
    if weeks > WEEKS:
        months = _months(today, MONTHS)
        months = [m for m in months if m >= disclosed.replace(day=1)] or months
        periods = [Period(m, m.strftime("%b %y"), m.strftime("%B %Y")) for m in months]
        return _series(periods, findings, requests, TruncMonth)
    starts = [first_week + timedelta(weeks=n) for n in range(weeks)]
    periods = [
        Period(s, s.strftime("%-d %b"), f"Week of {s.strftime('%-d %B %Y')}", "week")
        for s in starts
    ]
    return _series(periods, findings, requests, TruncWeek)
