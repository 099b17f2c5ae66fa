"""Who may see and do what with a work. Helpers return the object or raise 404: a work that is
not yours to see does not exist, as far as you can tell."""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q
from django.http import Http404

from accounts.models import GuildMembership, GuildStaffAppointment, User

from .models import Conflict, Work


def _owner_verified_guilds(owner_id: int):
    return GuildMembership.objects.filter(
        user_id=owner_id, status=GuildMembership.Status.VERIFIED
    ).values("guild_id")


def can_verify_claim(user: User, work: Work) -> bool:
    """Staff of a guild the creator is a verified member of; superusers when they have none.
    Never the creator themselves."""
    if not (user.is_authenticated and user.is_active) or user.pk == work.owner_id:
        return False
    guilds = _owner_verified_guilds(work.owner_id)
    if guilds.exists():
        return GuildStaffAppointment.objects.active().filter(user=user, guild__in=guilds).exists()
    return user.is_superuser


def reviewable_by(user: User) -> Q:
    """A filter on ``Work`` matching the works whose claims ``user`` may decide."""
    staff_guilds = GuildStaffAppointment.objects.active().filter(user=user).values("guild_id")
    verified = GuildMembership.objects.filter(status=GuildMembership.Status.VERIFIED)
    in_my_guilds = Q(owner__memberships__in=verified.filter(guild__in=staff_guilds))
    condition = in_my_guilds
    if user.is_superuser:
        condition |= ~Q(owner__memberships__status=GuildMembership.Status.VERIFIED)
    return condition & ~Q(owner=user)


def work_for_owner(user: User, public_id: str) -> Work:
    try:
        return Work.objects.select_related("file").get(public_id=public_id, owner_id=user.pk)
    except Work.DoesNotExist:
        raise Http404("No such work among yours.") from None


def work_for_reviewer(user: User, public_id: str) -> Work:
    """A work whose claim ``user`` may decide and its creator asked to have verified."""
    work = (
        Work.objects.select_related("owner", "owner__creator_profile", "file")
        .filter(public_id=public_id, claim_requested_at__isnull=False)
        .first()
    )
    if work is None or not can_verify_claim(user, work):
        raise Http404("No such claim for you to review.")
    return work


def work_for_owner_or_reviewer(user: User, public_id: str) -> Work:
    work = Work.objects.select_related("owner", "file").filter(public_id=public_id).first()
    if work is None:
        raise Http404
    if work.owner_id == user.pk:
        return work
    if work.claim_requested_at is not None and can_verify_claim(user, work):
        return work
    raise Http404


# --- Conflicts between two creators' works -------------------------------------------------------
# A conflict goes to the staff of a guild both creators are verified members of; when they have
# no guild in common (one has none, or they are in different guilds) it goes to superusers. The
# two creators never handle their own conflict, whatever their roles.


def verified_guild_ids(user_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """The guilds each user is a verified member of, in one query."""
    user_ids = set(user_ids)
    found: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
    for user_id, guild_id in GuildMembership.objects.filter(
        user_id__in=user_ids, status=GuildMembership.Status.VERIFIED
    ).values_list("user_id", "guild_id"):
        found[user_id].add(guild_id)
    return {user_id: frozenset(guilds) for user_id, guilds in found.items()}


def route_between(guilds_a: frozenset[int], guilds_b: frozenset[int]):
    """``("guild", guild_ids)`` when the two creators share verified guilds, else
    ``("superusers", None)``."""
    common = guilds_a & guilds_b
    return ("guild", tuple(sorted(common))) if common else ("superusers", None)


def _conflict_owner_ids(conflict: Conflict) -> tuple[int, int]:
    return conflict.work_a.owner_id, conflict.work_b.owner_id


def conflict_route(conflict: Conflict):
    """Who handles ``conflict``: ``("guild", guild_ids)`` (staff of any of them) or
    ``("superusers", None)``."""
    owner_a, owner_b = _conflict_owner_ids(conflict)
    guilds = verified_guild_ids([owner_a, owner_b])
    return route_between(guilds[owner_a], guilds[owner_b])


def can_handle_conflict(user: User, conflict: Conflict) -> bool:
    """Staff of the guild the conflict is routed to, or superusers when it is routed to them;
    never one of the two creators."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.pk in _conflict_owner_ids(conflict):
        return False
    route, guild_ids = conflict_route(conflict)
    if route == "guild":
        return (
            GuildStaffAppointment.objects.active()
            .filter(user=user, guild_id__in=guild_ids)
            .exists()
        )
    return user.is_superuser


def conflict_in_shared_guild(staff_guilds=None) -> Exists:
    """On ``Conflict``: both creators are verified members of one guild (among
    ``staff_guilds`` when given)."""
    verified = GuildMembership.objects.filter(status=GuildMembership.Status.VERIFIED)
    guilds_b = verified.filter(user_id=OuterRef(OuterRef("work_b__owner_id"))).values("guild_id")
    shared = verified.filter(user_id=OuterRef("work_a__owner_id"), guild_id__in=guilds_b)
    if staff_guilds is not None:
        shared = shared.filter(guild_id__in=staff_guilds)
    return Exists(shared)


def conflicts_handled_by(user: User) -> Q:
    """A filter on ``Conflict`` matching the conflicts routed to ``user``."""
    if not (user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    staff_guilds = GuildStaffAppointment.objects.active().filter(user=user).values("guild_id")
    condition = Q(conflict_in_shared_guild(staff_guilds))
    if user.is_superuser:
        condition |= ~Q(conflict_in_shared_guild())
    return condition & ~Q(work_a__owner=user) & ~Q(work_b__owner=user)


def conflict_for_handler(user: User, pk: int) -> Conflict:
    """A conflict routed to ``user``, with both works, their owners and files; else 404."""
    conflict = (
        Conflict.objects.select_related(
            "work_a__owner__creator_profile",
            "work_a__file",
            "work_b__owner__creator_profile",
            "work_b__file",
            "resolved_by",
            "block_lifted_by",
        )
        .filter(pk=pk)
        .first()
    )
    if conflict is None or not can_handle_conflict(user, conflict):
        raise Http404("No such conflict for you to handle.")
    return conflict


def conflict_work_for_handler(user: User, pk: int, side: str) -> Work:
    """One side (``"a"`` or ``"b"``) of a conflict routed to ``user``: its staff see both
    works' files for that conflict, and nothing else of either creator's."""
    if side not in ("a", "b"):
        raise Http404
    conflict = conflict_for_handler(user, pk)
    return conflict.work_a if side == "a" else conflict.work_b
