"""Reads about works."""

from django.db.models import Q, QuerySet

from accounts.acting import Capacity, acted_as_member_staff, capacities
from accounts.folding import fold_title
from accounts.models import User

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
) -> QuerySet[Work]:
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
    return works.order_by(*SORTS.get(sort, SORTS["newest"])).prefetch_related("identifiers")


def claim_queue(user: User) -> QuerySet[Work]:
    """Claims awaiting a decision that ``user`` may take, oldest request first."""
    return (
        Work.objects.filter(claim_state=Work.Claim.SELF_DECLARED, claim_requested_at__isnull=False)
        .filter(reviewable_by(user))
        .distinct()
        .select_related("owner", "owner__creator_profile", "file")
        .order_by("claim_requested_at", "pk")
    )


def counts_for_owner(user: User) -> dict[str, int]:
    """Their catalogue at a glance, in two queries: works by state (verified ones split by who
    verified them), and open conflicts."""
    from django.db.models import Count

    from .models import Conflict

    claim = Work.Claim
    counts = Work.objects.filter(owner=user).aggregate(
        active=Count("pk", filter=Q(status=Work.Status.ACTIVE)),
        archived=Count("pk", filter=Q(status=Work.Status.ARCHIVED)),
        verified=Count("pk", filter=Q(claim_state=claim.VERIFIED)),
        awaiting=Count(
            "pk", filter=Q(claim_state=claim.SELF_DECLARED, claim_requested_at__isnull=False)
        ),
        rejected=Count("pk", filter=Q(claim_state=claim.REJECTED)),
    )
    counts["conflicts"] = Conflict.objects.filter(
        Q(work_a__owner=user) | Q(work_b__owner=user), status=Conflict.Status.OPEN
    ).count()
    return counts
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


    by_guild = acted_as_member_staff(
        member="owner_id", actor="claim_decided_by_id", at="claim_decided_at"
    )
        # Who actually verified (issue 19): their guild's staff, or someone else — a portal
        # administrator, when they had no guild to ask.
        verified_by_guild=Count("pk", filter=Q(by_guild, claim_state=claim.VERIFIED)),
    counts["verified_otherwise"] = counts["verified"] - counts["verified_by_guild"]
