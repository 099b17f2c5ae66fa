"""Two creators proving control of the same site, or one of a site inside the other's: a conflict
for the staff it is routed to (as conflicts between works are), both creators told without
learning who the other is; the decision removes the losing site."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import OutboundEmail
from tests import factories
from works_registry import sites_services
from works_registry.models import Site, SiteConflict
from works_registry.sites_conflicts import (
    site_conflict_notes,
    site_conflict_queue,
    site_conflict_resolve,
    site_conflict_route,
)


def declare(owner, address):
    return sites_services.site_declare(actor=owner, address=address)


def verify(site):
    with transaction.atomic():
        return sites_services.site_verify(site=site, method="file", now=timezone.now())


@pytest.mark.parametrize(
    ("first", "second", "conflicting"),
    [
        ("https://ada.example/", "http://www.ada.example", True),  # the same site
        ("https://ada.example/", "https://ada.example/art", True),  # one inside the other
        ("https://ada.example/art/x", "https://ada.example/art", True),
        ("https://ada.example/art", "https://ada.example/artificial", False),
        ("https://ada.example/art", "https://ada.example/music", False),
        ("https://ada.example/", "https://blog.ada.example/", False),
    ],
)
def test_overlapping_verified_sites_of_two_creators_conflict(
    creator, other_creator, first, second, conflicting
):
    a = verify(declare(other_creator, first))
    b = declare(creator, second)
    assert not SiteConflict.objects.exists()  # a pending claim costs nothing
    verify(b)
    conflicts = list(SiteConflict.objects.values_list("site_a", "site_b"))
    assert conflicts == ([(a.pk, b.pk)] if conflicting else [])


def test_a_creators_own_sites_never_conflict(creator):
    verify(declare(creator, "https://ada.example/"))
    verify(declare(creator, "https://ada.example/art"))
    assert not SiteConflict.objects.exists()


def test_both_creators_are_emailed_without_learning_who_the_other_is(creator, other_creator):
    verify(declare(other_creator, "https://ada.example/"))
    verify(declare(creator, "https://ada.example/"))
    for me, other in ((creator, other_creator), (other_creator, creator)):
        [email] = OutboundEmail.objects.filter(to=me.email, subject__contains="Another claim")
        body = email.payload["body"]
        assert "ada.example" in body and "administrators" in body  # no shared guild
        assert other.email not in body and other.label not in body


def test_a_conflict_between_members_of_one_guild_goes_to_its_staff(
    creator, other_creator, wggb, guild_staff, other_guild_staff, superuser
):
    factories.MembershipFactory(user=other_creator, guild=wggb, verified=True)
    verify(declare(other_creator, "https://ada.example/"))
    verify(declare(creator, "https://ada.example/"))
    conflict = SiteConflict.objects.get()
    assert site_conflict_route(conflict) == ("guild", (wggb.pk,))
    assert site_conflict_queue(guild_staff) == [conflict]
    assert site_conflict_queue(other_guild_staff) == []
    assert site_conflict_queue(superuser) == []
    assert site_conflict_queue(creator) == []
    with pytest.raises(PermissionDenied):
        site_conflict_resolve(
            actor=superuser, conflict=conflict, resolution="a_stands", reason="No."
        )


def test_resolving_removes_the_losing_site_and_tells_both(creator, other_creator, superuser):
    bob = verify(declare(other_creator, "https://ada.example/"))
    alice = verify(declare(creator, "https://ada.example/art"))
    conflict = SiteConflict.objects.get()
    assert [n.is_open for n in site_conflict_notes(alice)] == [True]
    with pytest.raises(ValidationError):
        site_conflict_resolve(actor=superuser, conflict=conflict, resolution="a_stands", reason="")
    site_conflict_resolve(
        actor=superuser, conflict=conflict, resolution="b_stands", reason="Their portfolio."
    )
    bob.refresh_from_db()
    alice.refresh_from_db()
    assert bob.status == Site.Status.REMOVED and bob.removed_by == superuser
    assert bob.removed_reason == "Their portfolio."
    assert alice.status == Site.Status.VERIFIED
    [note] = site_conflict_notes(alice)
    assert (note.outcome, note.reason) == ("stands", "Their portfolio.")
    [mail] = OutboundEmail.objects.filter(to=other_creator.email, subject__contains="decided")
    assert "yours was removed" in mail.payload["body"] and creator.email not in mail.payload["body"]
    with pytest.raises(ValidationError, match="already been resolved"):
        site_conflict_resolve(
            actor=superuser, conflict=conflict, resolution="a_stands", reason="Again."
        )


def test_a_decided_pair_is_not_raised_again_when_a_site_is_verified_anew(
    creator, other_creator, superuser
):
    verify(declare(other_creator, "https://ada.example/"))
    alice = verify(declare(creator, "https://ada.example/"))
    site_conflict_resolve(
        actor=superuser,
        conflict=SiteConflict.objects.get(),
        resolution="both_stand",
        reason="They share it.",
    )
    Site.objects.filter(pk=alice.pk).update(status=Site.Status.SUSPENDED)
    alice.refresh_from_db()
    verify(alice)
    assert SiteConflict.objects.count() == 1
    assert SiteConflict.objects.get().status == SiteConflict.Status.RESOLVED
