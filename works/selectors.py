"""Reads about works."""

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from accounts.acting import Capacity, acted_as_member_staff, capacities
from accounts.folding import fold, fold_title
from accounts.models import CreatorName, User

from . import extensions
from .access import reviewable_by
from .identifiers import SCHEMES, normalise
from .models import Work, WorkIdentifier

SORTS = {
    "newest": ("-created_at", "-pk"),
    "oldest": ("created_at", "pk"),
    "title": ("title", "pk"),
    "year": ("-year", "title", "pk"),
}


def identifier_matches(q: str) -> Q:
    """A filter on works matching ``q`` as any identifier it normalises to."""
    condition = Q(pk__in=[])
    for scheme in SCHEMES:
        try:
            value = normalise(scheme, q)
        except Exception:  # not a valid identifier of this scheme
            continue
        condition |= Q(
            pk__in=WorkIdentifier.objects.filter(scheme=scheme, value=value).values("work_id")
        )
    return condition


def works_for_owner(
    user: User,
    *,
    q: str = "",
    kind: str = "",
    claim: str = "",
    status: str = "active",
    sort: str = "newest",
    conflict: str = "",
    extra: dict | None = None,
) -> QuerySet[Work]:
    """The creator's works, filtered as the works list's filter form says. ``conflict="open"``
    keeps the works with a possible conflict still open; ``extra`` is the form's cleaned data
    for the filters other apps add (``works.extensions``: AI choices). Every filter is a
    condition of one query."""
    works = Work.objects.filter(owner=user).select_related("file")
    if status in (Work.Status.ACTIVE, Work.Status.ARCHIVED):
        works = works.filter(status=status)
    if kind:
        works = works.filter(kind=kind)
    if claim == "pending":
        works = works.filter(claim_state=Work.Claim.SELF_DECLARED, claim_requested_at__isnull=False)
    elif claim:
        works = works.filter(claim_state=claim)
    q = q.strip()
    if q:
        # Titles through the one folding (accounts/folding.py): "orsted" finds "Ørsted".
        # fold_title, not fold: "the quiet harbour" finds "The Quiet Harbour" (folded "quiet
        # harbour"), and whatever contains fold(q) also contains fold_title(q), its tail.
        # A query of punctuation alone folds to nothing: then its characters are looked for.
        folded = fold_title(q)
        title = Q(title_folded__contains=folded) if folded else Q(title__icontains=q)
        works = works.filter(title | identifier_matches(q))
    if conflict == "open":
        works = works.filter(has_open_conflict())
    for list_filter in extensions.list_filters:
        if extra and list_filter.active(extra):
            works = list_filter.apply(works, user, extra)
    return works.order_by(*SORTS.get(sort, SORTS["newest"])).prefetch_related("identifiers")


def works_matching(user: User, data: dict) -> QuerySet[Work]:
    """``works_for_owner`` as the works list's valid filter form (``cleaned_data``) asks: what
    the list shows, and what its bulk actions' "all matching" re-selects (``works.bulk``)."""
    return works_for_owner(
        user,
        q=data.get("q") or "",
        kind=data.get("kind") or "",
        claim=data.get("claim") or "",
        status=data.get("status") or "active",
        sort=data.get("sort") or "newest",
        conflict=data.get("conflict") or "",
        extra=data,
    )


def has_open_conflict() -> Q:
    """A filter on works in a conflict still open, on either side."""
    from .models import Conflict

    open_conflicts = Conflict.objects.filter(status=Conflict.Status.OPEN)
    return Q(Exists(open_conflicts.filter(work_a=OuterRef("pk")))) | Q(
        Exists(open_conflicts.filter(work_b=OuterRef("pk")))
    )


def with_open_conflict_flag(works: QuerySet[Work]) -> QuerySet[Work]:
    """``works``, each with ``open_conflict``: whether it is in a conflict still open (a
    subquery of the same query, for a page's badges)."""
    return works.annotate(
        open_conflict=ExpressionWrapper(has_open_conflict(), output_field=BooleanField())
    )


def claim_queue(user: User, *, q: str = "") -> QuerySet[Work]:
    """Claims awaiting a decision that ``user`` may take, oldest request first. ``q`` keeps
    those whose title, or one of whose creator's names (display name, credit name, pseudonyms:
    ``CreatorName``), contains it folded (accounts/folding.py: "odegard" finds "Ødegård"), or
    whose creator's email contains it."""
    works = Work.objects.filter(
        claim_state=Work.Claim.SELF_DECLARED, claim_requested_at__isnull=False
    ).filter(reviewable_by(user))
    q = q.strip()
    if q:
        folded, title = fold(q), fold_title(q)
        names = CreatorName.objects.filter(profile__user=OuterRef("owner_id"))
        condition = Q(owner__email__icontains=q)
        if folded:
            condition |= Q(title_folded__contains=title) | Q(
                Exists(names.filter(name_folded__contains=folded))
            )
        else:  # punctuation alone folds to nothing: its characters are looked for
            condition |= Q(title__icontains=q)
        works = works.filter(condition)
    return (
        works.distinct()
        .select_related("owner", "owner__creator_profile", "file")
        .order_by("claim_requested_at", "pk")
    )


def claim_deciders(works) -> dict[int, Capacity]:
    """``{work id: Capacity}`` of who decided each decided claim among ``works`` — the guild
    whose staff did, or a portal administrator — in three queries."""
    acts = {
        w.pk: (w.owner_id, w.claim_decided_by_id, w.claim_decided_at)
        for w in works
        if w.claim_state != Work.Claim.SELF_DECLARED and w.claim_decided_by_id
    }
    found = capacities(acts.values())
    return {pk: found[act] for pk, act in acts.items() if act in found}


def counts_for_owner(user: User) -> dict[str, int]:
    """Their catalogue at a glance, in two queries: works by state (verified ones split by who
    verified them), and open conflicts."""
    from django.db.models import Count

    from .models import Conflict

    claim = Work.Claim
    by_guild = acted_as_member_staff(
        member="owner_id", actor="claim_decided_by_id", at="claim_decided_at"
    )
    counts = Work.objects.filter(owner=user).aggregate(
        active=Count("pk", filter=Q(status=Work.Status.ACTIVE)),
        archived=Count("pk", filter=Q(status=Work.Status.ARCHIVED)),
        verified=Count("pk", filter=Q(claim_state=claim.VERIFIED)),
        # Who actually verified (issue 19): their guild's staff, or someone else — a portal
        # administrator, when they had no guild to ask.
        verified_by_guild=Count("pk", filter=Q(by_guild, claim_state=claim.VERIFIED)),
        awaiting=Count(
            "pk", filter=Q(claim_state=claim.SELF_DECLARED, claim_requested_at__isnull=False)
        ),
        rejected=Count("pk", filter=Q(claim_state=claim.REJECTED)),
    )
    counts["verified_otherwise"] = counts["verified"] - counts["verified_by_guild"]
    counts["conflicts"] = Conflict.objects.filter(
        Q(work_a__owner=user) | Q(work_b__owner=user), status=Conflict.Status.OPEN
    ).count()
    return counts
