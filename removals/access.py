"""Who may see and decide a removal request. Anything else is a 404 — never someone else's
request.

- The creator sees their own requests (and staff filing under their mandate see the ones they
  filed while the mandate stands).
- Moderators: staff of any guild the creator is a verified member of — or superusers when none
  of those guilds has an eligible moderator (they have no guild, their guilds have no staff, or
  their only staff are themselves and whoever filed the request), so no request is stranded.
  Nobody moderates a request of their own or one they filed.
- Staff see a request only once it reached them (``reached_staff``): a draft, and a request
  they withdrew before any of them took a step on it, is theirs alone — 404 to every member of
  staff, superusers and registry managers too.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import GuildMembership, GuildStaffAppointment, Mandate, User

from .models import RemovalEvent, RemovalRequest

# The steps by which staff take part in a request before deciding it.
STAFF_STEPS = [RemovalEvent.Action.REVIEW_STARTED, RemovalEvent.Action.INFO_REQUESTED]


def creator_guild_ids(creator_id: int) -> set[int]:
    return set(
        GuildMembership.objects.filter(
            user_id=creator_id, status=GuildMembership.Status.VERIFIED
        ).values_list("guild_id", flat=True)
    )


def staff_guild_ids(user: User) -> set[int]:
    return set(
        GuildStaffAppointment.objects.active().filter(user=user).values_list("guild_id", flat=True)
    )


def _eligible_staff(guild_ids, *, creator_id, filed_by_id) -> QuerySet:
    """Active staff appointments, in ``guild_ids``, of active people who may moderate a request
    by ``creator_id`` filed by ``filed_by_id`` (anyone but those two). The arguments may be
    ``OuterRef``s: then it is a correlated subquery."""
    return (
        GuildStaffAppointment.objects.active()
        .filter(guild_id__in=guild_ids, user__is_active=True)
        .filter(~Q(user_id=creator_id), ~Q(user_id=filed_by_id))
    )


def can_moderate(user: User, request: RemovalRequest) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.pk in (request.creator_id, request.filed_by_id):
        return False
    guilds = creator_guild_ids(request.creator_id)
    if guilds & staff_guild_ids(user):
        return True
    if not user.is_superuser:
        return False
    # Superusers step in only when nobody of their guilds' staff may decide it.
    return not (
        guilds
        and _eligible_staff(
            guilds, creator_id=request.creator_id, filed_by_id=request.filed_by_id
        ).exists()
    )


def reached_staff_filter() -> Q:
    """Requests staff may see at all, as a filter on ``RemovalRequest``: submitted (a draft is
    theirs alone), and not withdrawn before any of them started reviewing it or asked them a
    question — what they took back unread stays theirs."""
    staff_step = RemovalEvent.objects.filter(request_id=OuterRef("pk"), action__in=STAFF_STEPS)
    Status = RemovalRequest.Status
    return ~Q(status=Status.DRAFT) & (~Q(status=Status.WITHDRAWN) | Exists(staff_step))


def reached_staff(request: RemovalRequest) -> bool:
    Status = RemovalRequest.Status
    if request.status == Status.DRAFT:
        return False
    if request.status != Status.WITHDRAWN:
        return True
    return RemovalEvent.objects.filter(request=request, action__in=STAFF_STEPS).exists()


def moderation_scope(user: User) -> Q:
    """The requests ``user`` moderates, as a filter on ``RemovalRequest`` (for queues). Written
    with ``creator_id IN (…)`` and ``NOT EXISTS (…)`` subqueries, not joins, so a creator who is
    a member of two of their guilds matches once and no DISTINCT is needed."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    verified = GuildMembership.objects.filter(status=GuildMembership.Status.VERIFIED)
    scope = Q(creator_id__in=verified.filter(guild_id__in=staff_guild_ids(user)).values("user_id"))
    if user.is_superuser:
        # Stranded: none of their verified guilds has staff other than them and the filer.
        guilds_of = verified.filter(user_id=OuterRef(OuterRef("creator_id"))).values("guild_id")
        scope |= ~Exists(
            _eligible_staff(
                guilds_of, creator_id=OuterRef("creator_id"), filed_by_id=OuterRef("filed_by_id")
            )
        )
    return scope & ~Q(creator=user) & ~Q(filed_by=user) & reached_staff_filter()


def moderated_requests(user: User) -> QuerySet[RemovalRequest]:
    return RemovalRequest.objects.filter(moderation_scope(user))


def has_mandate(user: User, creator_id: int) -> bool:
    """``user`` is staff of a guild ``creator`` gave an active mandate."""
    if user is None or not user.is_authenticated:
        return False
    return (
        Mandate.objects.active()
        .filter(creator_id=creator_id, guild_id__in=staff_guild_ids(user))
        .exists()
    )


def request_for_creator(user: User, pk: int) -> RemovalRequest:
    """Their own request — or one a staff member filed for them under a mandate that stands."""
    request = get_object_or_404(RemovalRequest.objects.select_related("creator", "filed_by"), pk=pk)
    if request.creator_id == user.pk:
        return request
    if request.filed_by_id == user.pk and has_mandate(user, request.creator_id):
        return request
    raise Http404("No such request.")


def request_for_moderator(user: User, pk: int) -> RemovalRequest:
    """A request in ``user``'s queue that reached staff (its review page, decisions, evidence
    and thumbnails); 404 for anything else."""
    request = get_object_or_404(RemovalRequest.objects.select_related("creator", "filed_by"), pk=pk)
    if not can_moderate(user, request) or not reached_staff(request):
        raise Http404("No such request in your queue.")
    return request
