import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services
from accounts.models import AuditEvent, GuildMembership
from tests import factories


@pytest.fixture
def claim(wggb):
    user = factories.CreatorProfileFactory().user
    return services.membership_claim(user=user, guild=wggb, membership_number=" WG-1 ")


def test_claim_is_recorded_as_awaiting_verification(claim):
    assert claim.status == GuildMembership.Status.CLAIMED
    assert claim.membership_number == "WG-1"
    assert AuditEvent.objects.filter(action="membership.claim", object_id=str(claim.pk)).exists()


def test_second_claim_of_the_same_guild_is_refused(claim):
    with pytest.raises(ValidationError):
        services.membership_claim(user=claim.user, guild=claim.guild, membership_number="WG-2")
    assert GuildMembership.objects.filter(user=claim.user).count() == 1


def test_empty_membership_number_is_refused(wggb):
    user = factories.UserFactory()
    with pytest.raises(ValidationError):
        services.membership_claim(user=user, guild=wggb, membership_number="   ")
    assert not GuildMembership.objects.filter(user=user).exists()


def test_staff_verify_a_claim_and_the_creator_is_emailed(
    claim, guild_staff, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_decide(actor=guild_staff, membership=claim, verify=True)
    claim.refresh_from_db()
    assert claim.status == GuildMembership.Status.VERIFIED
    assert claim.decided_by == guild_staff
    assert claim.decided_at is not None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [claim.user.email]
    assert "verified" in mailoutbox[0].subject.lower()
    assert mailoutbox[0].reply_to == [claim.guild.contact_email]
    event = AuditEvent.objects.get(action="membership.verify")
    assert event.actor == guild_staff and event.after == {"status": "verified"}


def test_rejection_needs_a_reason_and_the_reason_reaches_the_creator(
    claim, guild_staff, mailoutbox, django_capture_on_commit_callbacks
):
    with pytest.raises(ValidationError):
        services.membership_decide(actor=guild_staff, membership=claim, verify=False, reason=" ")
    claim.refresh_from_db()
    assert claim.status == GuildMembership.Status.CLAIMED

    with django_capture_on_commit_callbacks(execute=True):
        services.membership_decide(
            actor=guild_staff, membership=claim, verify=False, reason="No member with that number."
        )
    claim.refresh_from_db()
    assert claim.status == GuildMembership.Status.REJECTED
    assert "No member with that number." in mailoutbox[0].body


def test_staff_of_another_guild_cannot_decide(claim, other_guild_staff):
    with pytest.raises(PermissionDenied):
        services.membership_decide(actor=other_guild_staff, membership=claim, verify=True)
    claim.refresh_from_db()
    assert claim.status == GuildMembership.Status.CLAIMED


def test_staff_never_decide_their_own_claim(wggb, guild_staff):
    own = services.membership_claim(user=guild_staff, guild=wggb, membership_number="WG-9")
    with pytest.raises(PermissionDenied):
        services.membership_decide(actor=guild_staff, membership=own, verify=True)


def test_a_decided_claim_cannot_be_decided_again(claim, guild_staff):
    services.membership_decide(actor=guild_staff, membership=claim, verify=True)
    with pytest.raises(ValidationError):
        services.membership_decide(actor=guild_staff, membership=claim, verify=False, reason="x")


def test_revoked_staff_lose_the_power_to_decide(claim, guild_staff, superuser):
    appointment = guild_staff.staff_appointments.get()
    services.staff_revoke(actor=superuser, appointment=appointment)
    with pytest.raises(PermissionDenied):
        services.membership_decide(actor=guild_staff, membership=claim, verify=True)


def test_a_rejected_claim_may_be_made_again(claim, guild_staff):
    services.membership_decide(actor=guild_staff, membership=claim, verify=False, reason="Typo?")
    again = services.membership_claim(user=claim.user, guild=claim.guild, membership_number="WG-11")
    assert again.pk == claim.pk
    assert again.status == GuildMembership.Status.CLAIMED
    assert again.reason == "" and again.decided_by is None
