"""No request is stranded: when none of their verified guilds has staff who may decide it (no
staff at all, or only themselves and whoever filed it), superusers moderate it — never one of their
own or one they filed. While their guilds have someone else who may decide, superusers do not."""

from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.models import Mandate
from removals import services
from removals.access import can_moderate, moderated_requests
from removals.models import RemovalRequest
from tests import factories

Status = RemovalRequest.Status
QUEUE = reverse("removals-staff:queue")


def _review(obj):
    return reverse("removals-staff:review", args=[obj.pk])


def _submitted(actor, creator, developer, *, title="Stranded?"):
    work = factories.WorkFactory(owner=creator)
    obj = services.draft_create(actor=actor, creator=creator, title=title)
    services.draft_update(
        actor=actor, request=obj, works=[work], developers=[developer], asks=["cease"]
    )
    services.request_submit(actor=actor, request=obj, good_faith=True, accurate=True)
    obj.refresh_from_db()
    return obj


def _superuser_moderates(client, superuser, obj):
    assert can_moderate(superuser, obj)
    assert list(moderated_requests(superuser)) == [obj]
    client.force_login(superuser)
    assert _review(obj) in client.get(QUEUE).content.decode()
    assert client.get(_review(obj)).status_code == HTTPStatus.OK
    services.review_start(actor=superuser, request=obj)
    obj.refresh_from_db()
    assert obj.status == Status.IN_REVIEW and obj.reviewer == superuser


def _superuser_cannot(client, superuser, obj):
    assert not can_moderate(superuser, obj)
    assert not moderated_requests(superuser).filter(pk=obj.pk).exists()
    client.force_login(superuser)
    assert _review(obj) not in client.get(QUEUE).content.decode()
    assert client.get(_review(obj)).status_code == HTTPStatus.NOT_FOUND
    with pytest.raises(PermissionDenied):
        services.review_start(actor=superuser, request=obj)
    obj.refresh_from_db()
    assert obj.status == Status.SUBMITTED


def test_a_guild_without_staff_leaves_it_to_superusers(client, superuser, creator, developer):
    obj = _submitted(creator, creator, developer)

    _superuser_moderates(client, superuser, obj)


def test_a_member_of_two_guilds_without_staff_is_listed_once(
    superuser, creator, mu, developer, client
):
    factories.MembershipFactory(user=creator, guild=mu, verified=True)
    obj = _submitted(creator, creator, developer)

    assert moderated_requests(superuser).count() == 1
    _superuser_moderates(client, superuser, obj)


def test_when_the_only_staff_filed_it_under_their_mandate_superusers_decide(
    client, superuser, creator, guild_staff, wggb, developer
):
    Mandate.objects.create(creator=creator, guild=wggb)
    obj = _submitted(guild_staff, creator, developer)
    assert obj.filed_by == guild_staff

    # The staff member who filed it cannot decide it …
    assert not can_moderate(guild_staff, obj)
    client.force_login(guild_staff)
    assert client.get(_review(obj)).status_code == HTTPStatus.NOT_FOUND
    # … so superusers do.
    _superuser_moderates(client, superuser, obj)


def test_when_their_guilds_only_staff_is_themselves_superusers_decide(
    client, superuser, creator, wggb, developer
):
    factories.StaffAppointmentFactory(user=creator, guild=wggb)
    obj = _submitted(creator, creator, developer)

    _superuser_moderates(client, superuser, obj)


def test_revoked_or_deactivated_staff_do_not_count(
    client, superuser, creator, wggb, developer, guild_staff
):
    guild_staff.staff_appointments.update(revoked_at=timezone.now())
    other = factories.UserFactory(email="gone@wggb.example", is_active=False)
    factories.StaffAppointmentFactory(user=other, guild=wggb)
    obj = _submitted(creator, creator, developer)

    _superuser_moderates(client, superuser, obj)


def test_a_guild_with_other_staff_keeps_it_from_superusers(
    client, superuser, creator, guild_staff, developer
):
    obj = _submitted(creator, creator, developer)

    _superuser_cannot(client, superuser, obj)
    assert can_moderate(guild_staff, obj)


def test_other_staff_of_their_guild_decide_what_a_colleague_filed(
    client, superuser, creator, guild_staff, wggb, developer
):
    colleague = factories.UserFactory(email="colleague@wggb.example")
    factories.StaffAppointmentFactory(user=colleague, guild=wggb)
    Mandate.objects.create(creator=creator, guild=wggb)
    obj = _submitted(guild_staff, creator, developer)

    assert can_moderate(colleague, obj)
    _superuser_cannot(client, superuser, obj)


def test_superusers_never_moderate_their_own(client, superuser, wggb, developer):
    factories.MembershipFactory(user=superuser, guild=wggb, verified=True)
    own = _submitted(superuser, superuser, developer)

    _superuser_cannot(client, superuser, own)


def test_superusers_never_moderate_one_they_filed(client, superuser, creator, wggb, developer):
    # A superuser who is also their guild's only staff, filing under their mandate.
    factories.StaffAppointmentFactory(user=superuser, guild=wggb)
    Mandate.objects.create(creator=creator, guild=wggb)
    filed = _submitted(superuser, creator, developer)
    other_root = factories.UserFactory(email="root2@example.org", is_superuser=True)

    _superuser_cannot(client, superuser, filed)
    # Another superuser takes it: nobody else may.
    _superuser_moderates(client, other_root, filed)


# --- Approving a stranded request ----------------------------------------------------------------


def _strand_by_no_staff(creator, wggb, guild_staff):
    guild_staff.staff_appointments.update(revoked_at=timezone.now())
    return creator


def _strand_by_their_own_appointment(creator, wggb, guild_staff):
    guild_staff.staff_appointments.update(revoked_at=timezone.now())
    factories.StaffAppointmentFactory(user=creator, guild=wggb)
    return creator


def _strand_by_the_filer(creator, wggb, guild_staff):
    Mandate.objects.create(creator=creator, guild=wggb)
    return guild_staff  # their guild's only staff files it for them, so cannot decide it


@pytest.mark.parametrize(
    "strand", [_strand_by_no_staff, _strand_by_their_own_appointment, _strand_by_the_filer]
)
def test_a_superuser_approves_a_stranded_request_and_verifies_their_self_declared_claims(
    client, superuser, creator, wggb, guild_staff, developer, strand
):
    from accounts.models import AuditEvent
    from notices.models import Notice
    from removals.models import RemovalEvent
    from works.models import Work

    filer = strand(creator, wggb, guild_staff)
    obj = _submitted(filer, creator, developer)
    work = obj.works.get()
    assert work.claim_state == Work.Claim.SELF_DECLARED
    client.force_login(superuser)

    response = client.post(reverse("removals-staff:approve", args=[obj.pk]), {"note": "Checked."})

    assert response.status_code == HTTPStatus.FOUND
    obj.refresh_from_db()
    work.refresh_from_db()
    assert obj.status == Status.APPROVED and obj.decided_by == superuser
    assert work.claim_state == Work.Claim.VERIFIED and work.claim_decided_by == superuser
    assert obj.events.filter(action=RemovalEvent.Action.CLAIM_VERIFIED, actor=superuser).exists()
    assert AuditEvent.objects.get(action="claim.verify_many").actor == superuser
    assert Notice.objects.filter(topic=obj.topic, developer=developer).count() == 1
