"""Who may see and do what with a work. Helpers return the object or raise 404: a work that is
not yours to see does not exist, as far as you can tell."""

from django.db.models import Q
from django.http import Http404

from accounts.models import GuildMembership, GuildStaffAppointment, User

from .models import Work


def _owner_verified_guilds(owner_id: int):
    return GuildMembership.objects.filter(
        user_id=owner_id, status=GuildMembership.Status.VERIFIED
    ).values("guild_id")


def can_verify_claim(user: User, work: Work) -> bool:
    """Staff of a guild the creator is a verified member of; superusers when she has none.
    Never the creator herself."""
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
