"""Who may see and change whose consent. Each helper returns the object or raises 404: what is
not yours to see does not exist, as far as you can tell."""

from django.http import Http404

from accounts.models import Mandate, User
from works.models import Work

from . import selectors, services
from .models import LicenceGrant


def member_for_staff(staff: User, ref) -> tuple[User, Mandate]:
    """The member whose opaque reference is ``ref``, and the mandate they gave a guild ``staff``
    works for; 404 without one (or when ``staff`` is the member themselves)."""
    member = User.objects.select_related("creator_profile").filter(ref=ref, is_active=True).first()
    if member is None or member.pk == staff.pk or not services.can_act_for(staff, member):
        raise Http404("No member of yours gave you a mandate.")
    mandate = selectors.mandate_between(staff, member)
    if mandate is None:
        raise Http404("No member of yours gave you a mandate.")
    return member, mandate


def work_of(owner: User, public_id: str) -> Work:
    """One of ``owner``'s works (the caller has already checked who may act for them)."""
    work = Work.objects.filter(public_id=public_id, owner=owner).first()
    if work is None:
        raise Http404("No such work.")
    return work


def grant_for_owner(user: User, pk: int) -> LicenceGrant:
    grant = LicenceGrant.objects.select_related("developer").filter(pk=pk, owner=user).first()
    if grant is None:
        raise Http404("No such licence among yours.")
    return grant


def mandate_for_creator(user: User, pk: int) -> Mandate:
    mandate = Mandate.objects.select_related("guild").filter(pk=pk, creator=user).first()
    if mandate is None:
        raise Http404("No such mandate among yours.")
    return mandate
