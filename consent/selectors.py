"""Reads for the consent pages. Effective decisions are not computed here: they come from
``consent.decisions``, the one module that computes them."""

from datetime import date

from django.db.models import Count, Q, QuerySet

from accounts.models import GuildStaffAppointment, Mandate, User
from notices.models import AIDeveloper
from works.models import Work
from works.selectors import works_for_owner

from .models import LicenceGrant, Preference


def chosen_defaults(owner: User) -> dict[str, str]:
    """The defaults the creator chose themselves (a use they never chose is absent)."""
    return dict(
        Preference.objects.filter(owner=owner, work__isnull=True).values_list("use", "choice")
    )


def overrides_for(work: Work) -> dict[str, str]:
    return dict(Preference.objects.filter(work=work).values_list("use", "choice"))


def grants_for_owner(owner: User) -> QuerySet[LicenceGrant]:
    return (
        LicenceGrant.objects.filter(owner=owner)
        .select_related("developer")
        .annotate(work_count=Count("works"))
        .order_by("-created_at", "-pk")
    )


def grants_touching(work: Work, *, on: date) -> QuerySet[LicenceGrant]:
    """The grants in force on ``on`` that cover ``work`` (all their works, or this one)."""
    return (
        LicenceGrant.objects.active_on(on)
        .filter(owner_id=work.owner_id)
        .filter(Q(all_works=True) | Q(works=work))
        .select_related("developer")
        .distinct()
        .order_by("developer__name", "pk")
    )


def grantable_developers() -> QuerySet[AIDeveloper]:
    return AIDeveloper.objects.filter(is_active=True).order_by("name")


def selection(
    owner: User,
    *,
    scope: str,
    kind: str = "",
    q: str = "",
    claim: str = "",
    status: str = "active",
) -> QuerySet[Work]:
    """The creator's works chosen by ``scope``: ``all`` (active and archived), ``kind`` (every
    work of that kind, active and archived) or ``search`` (the works list's filters, exactly)."""
    if scope == "all":
        works = works_for_owner(owner, status="all")
    elif scope == "kind":
        works = works_for_owner(owner, kind=kind, status="all")
    else:
        works = works_for_owner(owner, q=q, kind=kind, claim=claim, status=status)
    # Only what writing an override needs: no file, no identifiers, no ordering.
    return (
        works.select_related(None)
        .prefetch_related(None)
        .order_by()
        .only("pk", "public_id", "owner_id")
    )


def bulk_preview(works: QuerySet[Work], *, use: str, choice: str | None) -> tuple[int, int]:
    """How many works are selected, and how many of them applying ``choice`` would change
    (``None``: how many have an override to remove). Three queries, whatever the number."""
    selected = works.count()
    overrides = Preference.objects.filter(work__in=works.values("pk"), use=use)
    if choice is None:
        return selected, overrides.count()
    return selected, selected - overrides.filter(choice=choice).count()


# --- Guild staff acting under a mandate --------------------------------------------------------


def staff_guild_ids(user: User):
    return GuildStaffAppointment.objects.active().filter(user=user).values("guild_id")


def mandates_for_staff(user: User) -> QuerySet[Mandate]:
    """The active mandates members gave the guilds ``user`` is staff of."""
    return (
        Mandate.objects.active()
        .filter(guild__in=staff_guild_ids(user))
        .exclude(creator=user)
        .select_related("creator", "creator__creator_profile", "guild")
        .order_by("guild__name", "creator__email")
    )


def mandate_between(staff: User, member: User) -> Mandate | None:
    """The active mandate under which ``staff`` may act for ``member`` (None if there is none)."""
    return mandates_for_staff(staff).filter(creator=member).first()


def mandates_of(creator: User) -> QuerySet[Mandate]:
    return Mandate.objects.filter(creator=creator).select_related("guild")
