"""Who acted, in what capacity: one wording for every page and email that says who verified a
claim or decided a request (issue 19: "show what happened and who did it").

A person acted *as a guild's staff* when, at that moment, they held a staff appointment of a
guild the member is a verified member of; a superuser who did not is *a portal
administrator*; anyone else is plain *guild staff* (an appointment since deleted). The
appointment is judged at the time of the act (``appointed_at`` ≤ act < ``revoked_at``), so a
later appointment or revocation does not rewrite the record.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, Subquery

from .models import Guild, GuildMembership, GuildStaffAppointment, User

ADMINISTRATOR = "a portal administrator"
UNKNOWN_STAFF = "guild staff"


@dataclass(frozen=True)
class Capacity:
    """How one person acted toward one member at one time."""

    guild: Guild | None = None
    administrator: bool = False

    @property
    def by_guild(self) -> bool:
        return self.guild is not None

    def __str__(self) -> str:
        return words(self.guild.name if self.guild else "", administrator=self.administrator)


def words(guild_name: str, *, administrator: bool) -> str:
    """The one wording: "<Guild> staff", "a portal administrator", or "guild staff"."""
    if guild_name:
        return f"{guild_name} staff"
    return ADMINISTRATOR if administrator else UNKNOWN_STAFF


def _staff_at(appointment: GuildStaffAppointment, at: datetime) -> bool:
    return appointment.appointed_at <= at and (
        appointment.revoked_at is None or appointment.revoked_at > at
    )


Act = tuple[int, int, datetime]  # (member_id, actor_id, at)


def capacities(acts: Iterable[Act]) -> dict[Act, Capacity]:
    """For each act ``(member_id, actor_id, at)``: the ``Capacity`` the actor acted in. Three
    queries whatever the number of acts."""
    acts = [(m, a, at) for m, a, at in acts if a is not None and at is not None]
    if not acts:
        return {}
    members = {m for m, _, _ in acts}
    actors = {a for _, a, _ in acts}
    guilds_of: dict[int, set[int]] = {}
    for user_id, guild_id in GuildMembership.objects.filter(
        user_id__in=members, status=GuildMembership.Status.VERIFIED
    ).values_list("user_id", "guild_id"):
        guilds_of.setdefault(user_id, set()).add(guild_id)
    appointments: dict[int, list[GuildStaffAppointment]] = {}
    for appointment in (
        GuildStaffAppointment.objects.filter(user_id__in=actors)
        .select_related("guild")
        .order_by("guild__name", "pk")
    ):
        appointments.setdefault(appointment.user_id, []).append(appointment)
    superusers = set(
        User.objects.filter(pk__in=actors, is_superuser=True).values_list("pk", flat=True)
    )
    result = {}
    for member_id, actor_id, at in acts:
        guilds = guilds_of.get(member_id, set())
        held = [
            a for a in appointments.get(actor_id, []) if a.guild_id in guilds and _staff_at(a, at)
        ]
        if held:
            result[(member_id, actor_id, at)] = Capacity(guild=held[0].guild)
        else:
            result[(member_id, actor_id, at)] = Capacity(administrator=actor_id in superusers)
    return result


def capacity(*, member_id: int, actor_id: int | None, at: datetime | None) -> Capacity | None:
    """The one act's ``Capacity`` (None when the actor or the time is unknown)."""
    if actor_id is None or at is None:
        return None
    return capacities([(member_id, actor_id, at)]).get((member_id, actor_id, at))


def _held_then(*, member: str, actor: str, at: str):
    member_guilds = GuildMembership.objects.filter(
        user_id=OuterRef(OuterRef(member)), status=GuildMembership.Status.VERIFIED
    ).values("guild_id")
    return GuildStaffAppointment.objects.filter(
        user_id=OuterRef(actor),
        guild_id__in=member_guilds,
        appointed_at__lte=OuterRef(at),
    ).filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=OuterRef(at)))


def acted_as_member_staff(*, member: str, actor: str, at: str) -> Exists:
    """As a filter expression on a model with these three field paths (an owner, the person who
    acted and when): the actor was then staff of a guild the member is a verified member of.
    ``Work.objects.filter(acted_as_member_staff(member="owner_id", actor="claim_decided_by_id",
    at="claim_decided_at"))``."""
    return Exists(_held_then(member=member, actor=actor, at=at))


def acted_for_guild(*, member: str, actor: str, at: str) -> Subquery:
    """As an annotation (no query of its own): the name of the guild whose staff the actor then
    was among the member's guilds, or None — for ``words(name, administrator=…)``."""
    held = _held_then(member=member, actor=actor, at=at).order_by("guild__name", "pk")
    return Subquery(held.values("guild__name")[:1])
