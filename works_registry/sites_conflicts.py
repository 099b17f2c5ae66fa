"""Two creators' sites that overlap — the same site, or one inside the other — both verified
(docs/sites.md, "Conflicts").

A ``SiteConflict`` pairs two sites as ``works.models.Conflict`` pairs two works, and is handled
the same way by the same people: detection when a site becomes verified; routing by
``works.access.route_between`` (the staff of a guild both creators are verified members of,
else superusers; never either creator); a reason both creators read; emails that never name the
other creator. Its rows appear in the staff's conflict queue (``works:conflict-queue``, through
the template tag ``site_conflicts``) and open on pages of their own (``sites:conflict-…``).

A resolution that lets one site stand removes the other (``site_remove``, by the staff);
"both stand" (a shared site) and "not a conflict" change nothing. While open, both sites count:
a lookup answers both, and the stricter decision wins where callers combine them (Spawning).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from accounts import mail
from accounts.models import GuildStaffAppointment, User
from accounts.services import audit_record
from works.access import route_between, verified_guild_ids

from .models import Site, SiteConflict
from .sites_services import site_remove

Resolution = SiteConflict.Resolution


def _ancestors(path: str) -> list[str]:
    """ "/a/b" → ["", "/a"]: the site paths that cover ``path`` without being it."""
    parts = path.split("/")[1:] if path else []
    return ["/".join([""] + parts[:i]) for i in range(len(parts))]


def overlapping(site: Site) -> Q:
    """On ``Site``: the same host, and a path that covers ``site``'s or is covered by it."""
    inside = Q() if not site.path else Q(path__startswith=site.path + "/")
    return Q(host=site.host) & (Q(path__in=[*_ancestors(site.path), site.path]) | inside)


def site_conflicts_detect(*, site: Site, now) -> list[SiteConflict]:
    """Conflicts between the just verified ``site`` and other creators' verified sites that
    overlap it; a pair already recorded (open or decided) is left as it is. Inside the
    verifying transaction. Each creator of a new conflict is emailed."""
    others = list(
        Site.objects.filter(overlapping(site), status=Site.Status.VERIFIED)
        .exclude(owner_id=site.owner_id)
        .select_related("owner")
    )
    if not others:
        return []
    known = set(
        SiteConflict.objects.filter(
            Q(site_a=site, site_b__in=others) | Q(site_b=site, site_a__in=others)
        ).values_list("site_a_id", "site_b_id")
    )
    created = []
    for other in others:
        if (other.pk, site.pk) in known or (site.pk, other.pk) in known:
            continue
        conflict = SiteConflict.objects.create(site_a=other, site_b=site, created_at=now)
        audit_record(
            actor=None,
            action="site_conflict.create",
            obj=conflict,
            after={"site_a": other.url, "site_b": site.url},
        )
        created.append(conflict)
        for mine in (other, site):
            _email(
                "site_conflict_found",
                mine,
                {"by_guild": site_conflict_route(conflict)[0] == "guild"},
            )
    return created


def _email(name: str, site: Site, context: dict) -> None:
    mail.queue_templated(
        f"works_registry/email/{name}",
        [site.owner.email],
        {"site": site, "page_url": settings.SITE_URL + site.get_absolute_url(), **context},
    )


# --- Routing ------------------------------------------------------------------------------------


def site_conflict_route(conflict: SiteConflict):
    """``("guild", guild_ids)`` or ``("superusers", None)``, as for conflicts between works."""
    owner_a, owner_b = conflict.site_a.owner_id, conflict.site_b.owner_id
    guilds = verified_guild_ids([owner_a, owner_b])
    return route_between(guilds[owner_a], guilds[owner_b])


def _handles(user: User, route, staff_guilds: set[int]) -> bool:
    kind, guild_ids = route
    if kind == "guild":
        return bool(staff_guilds & set(guild_ids))
    return user.is_superuser


def _staff_guilds(user: User) -> set[int]:
    return set(
        GuildStaffAppointment.objects.active().filter(user=user).values_list("guild_id", flat=True)
    )


def can_handle_site_conflict(user: User, conflict: SiteConflict) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if user.pk in (conflict.site_a.owner_id, conflict.site_b.owner_id):
        return False
    return _handles(user, site_conflict_route(conflict), _staff_guilds(user))


def site_conflict_queue(user: User, *, resolved: bool = False) -> list[SiteConflict]:
    """The site conflicts routed to ``user``: open ones oldest first, or the resolved ones
    latest decision first. Three queries, whatever their number."""
    if not (user.is_authenticated and user.is_active):
        return []
    status = SiteConflict.Status.RESOLVED if resolved else SiteConflict.Status.OPEN
    order = ("-resolved_at", "-pk") if resolved else ("created_at", "pk")
    conflicts = list(
        SiteConflict.objects.filter(status=status)
        .exclude(Q(site_a__owner=user) | Q(site_b__owner=user))
        .select_related("site_a__owner__creator_profile", "site_b__owner__creator_profile")
        .order_by(*order)
    )
    if not conflicts:
        return []
    guilds = verified_guild_ids({s.owner_id for c in conflicts for s in (c.site_a, c.site_b)})
    staff_guilds = _staff_guilds(user)
    return [
        c
        for c in conflicts
        if _handles(
            user, route_between(guilds[c.site_a.owner_id], guilds[c.site_b.owner_id]), staff_guilds
        )
    ]


def site_conflict_for_handler(user: User, pk: int) -> SiteConflict:
    """A site conflict routed to ``user``, with both sites and their owners; else 404."""
    conflict = (
        SiteConflict.objects.select_related(
            "site_a__owner__creator_profile", "site_b__owner__creator_profile", "resolved_by"
        )
        .filter(pk=pk)
        .first()
    )
    if conflict is None or not can_handle_site_conflict(user, conflict):
        raise Http404("No such conflict for you to handle.")
    return conflict


# --- Resolution ---------------------------------------------------------------------------------


def _outcome(conflict: SiteConflict, site_id: int) -> str:
    """``stands``, ``removed``, ``both_stand`` or ``not_a_conflict``, seen from ``site_id``."""
    mine_is_a = site_id == conflict.site_a_id
    if conflict.resolution == Resolution.A_STANDS:
        return "stands" if mine_is_a else "removed"
    if conflict.resolution == Resolution.B_STANDS:
        return "removed" if mine_is_a else "stands"
    return conflict.resolution


@transaction.atomic
def site_conflict_resolve(
    *, actor: User, conflict: SiteConflict, resolution: str, reason: str
) -> SiteConflict:
    """The staff it is routed to decide, with a reason both creators read: ``a_stands`` /
    ``b_stands`` removes the other site; ``both_stand`` and ``not_a_conflict`` change none."""
    conflict = (
        SiteConflict.objects.select_for_update(of=("self",))
        .select_related("site_a__owner", "site_b__owner")
        .get(pk=conflict.pk)
    )
    if not can_handle_site_conflict(actor, conflict):
        raise PermissionDenied("You cannot decide this conflict.")
    if conflict.status != SiteConflict.Status.OPEN:
        raise ValidationError("This conflict has already been resolved.")
    if resolution not in Resolution.values:
        raise ValidationError({"resolution": "Choose how the conflict is resolved."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why: both creators will read it."})
    loser = {Resolution.A_STANDS: conflict.site_b, Resolution.B_STANDS: conflict.site_a}.get(
        resolution
    )
    if loser is not None and loser.is_live:
        site_remove(actor=actor, site=loser, reason=reason, staff=True)
    conflict.status = SiteConflict.Status.RESOLVED
    conflict.resolution = resolution
    conflict.reason = reason
    conflict.resolved_by = actor
    conflict.resolved_at = timezone.now()
    conflict.save()
    audit_record(
        actor=actor,
        action="site_conflict.resolve",
        obj=conflict,
        before={"status": SiteConflict.Status.OPEN},
        after={"status": conflict.status, "resolution": resolution},
        reason=reason,
    )
    for site in (conflict.site_a, conflict.site_b):
        _email(
            "site_conflict_resolved",
            site,
            {"outcome": _outcome(conflict, site.pk), "reason": reason},
        )
    return conflict


# --- What the creator sees ----------------------------------------------------------------------


@dataclass(frozen=True)
class SiteConflictNote:
    """A conflict as one of its creators sees it: nothing of the other site or creator."""

    pk: int
    is_open: bool
    found_at: object
    outcome: str
    reason: str
    by_guild: bool


def site_conflict_notes(site: Site) -> list[SiteConflictNote]:
    conflicts = list(
        SiteConflict.objects.filter(Q(site_a=site) | Q(site_b=site))
        .select_related("site_a", "site_b")
        .order_by("-created_at", "-pk")
    )
    notes = []
    for conflict in conflicts:
        is_open = conflict.status == SiteConflict.Status.OPEN
        notes.append(
            SiteConflictNote(
                pk=conflict.pk,
                is_open=is_open,
                found_at=conflict.created_at,
                outcome="" if is_open else _outcome(conflict, site.pk),
                reason="" if is_open else conflict.reason,
                by_guild=site_conflict_route(conflict)[0] == "guild",
            )
        )
    return notes
