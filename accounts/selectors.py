"""Reads about users, guilds and memberships."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from .models import Guild, GuildMembership, GuildStaffAppointment, User


@dataclass(frozen=True)
class Roles:
    staff_guild_ids: frozenset[int] = field(default_factory=frozenset)
    is_registry_manager: bool = False
    is_superuser: bool = False

    @property
    def is_guild_staff(self) -> bool:
        return bool(self.staff_guild_ids)

    @property
    def can_manage_registry(self) -> bool:
        return self.is_registry_manager or self.is_superuser

    @property
    def can_read_registry(self) -> bool:
        return self.is_guild_staff or self.can_manage_registry


def user_roles(user: User) -> Roles:
    ids = frozenset(
        GuildStaffAppointment.objects.active().filter(user=user).values_list("guild_id", flat=True)
    )
    return Roles(
        staff_guild_ids=ids,
        is_registry_manager=user.is_active and user.is_registry_manager,
        is_superuser=user.is_active and user.is_superuser,
    )


def staff_guilds(user: User) -> QuerySet[Guild]:
    return Guild.objects.filter(
        staff_appointments__user=user, staff_appointments__revoked_at__isnull=True
    ).distinct()


def membership_queue(user: User) -> QuerySet[GuildMembership]:
    """Claims awaiting a decision in ``user``'s guilds (never their own), oldest first."""
    return (
        GuildMembership.objects.filter(
            status=GuildMembership.Status.CLAIMED,
            guild__in=staff_guilds(user),
        )
        .exclude(user=user)
        .select_related("user", "user__creator_profile", "guild")
        .order_by("claimed_at", "pk")
    )


def memberships_of(user: User) -> QuerySet[GuildMembership]:
    return GuildMembership.objects.filter(user=user).select_related("guild", "decided_by")


def verified_guilds(user: User) -> QuerySet[Guild]:
    return Guild.objects.filter(
        memberships__user=user, memberships__status=GuildMembership.Status.VERIFIED
    )


def with_member_counts(guilds: QuerySet[Guild]) -> QuerySet[Guild]:
    """Each guild annotated with ``verified_count``, ``claimed_count`` and ``rejected_count``."""
    status = GuildMembership.Status

    def count(value):
        return Count("memberships", filter=Q(memberships__status=value))

    return guilds.annotate(
        verified_count=count(status.VERIFIED),
        claimed_count=count(status.CLAIMED),
        rejected_count=count(status.REJECTED),
    )
