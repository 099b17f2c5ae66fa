from http import HTTPStatus

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, CreatorProfile, GuildMembership, GuildStaffAppointment
from tests import factories


def test_creator_edits_their_profile(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("accounts:profile"),
        {
            "display_name": "Alice A.",
            "credit_name": "Alice Author",
            "pseudonyms": "A. A.\nAnon",
            "isni": "0000 0001 2103 2683",
            "website": "https://alice.example",
            "bio": "Poet.",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    profile = CreatorProfile.objects.get(user=creator)
    assert profile.isni == "0000000121032683"
    assert profile.pseudonym_list == ["A. A.", "Anon"]
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "0000 0001 2103 2683" in page


def test_bad_isni_is_explained_next_to_the_field_and_nothing_changes(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("accounts:profile"), {"display_name": "Changed", "isni": "0000 0001 2103 2684"}
    )
    assert response.status_code == HTTPStatus.OK
    assert "check digit does not match" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert CreatorProfile.objects.get(user=creator).display_name == "Alice Author"


def test_html_in_a_profile_is_shown_as_text(client, creator):
    client.force_login(creator)
    client.post(
        reverse("accounts:profile"),
        {"display_name": "<script>alert(1)</script>", "credit_name": "x"},
    )
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_profile_page_creates_an_empty_profile_for_a_new_account(client, charlie):
    client.force_login(charlie)
    assert client.get(reverse("accounts:profile")).status_code == HTTPStatus.OK
    assert CreatorProfile.objects.filter(user=charlie).exists()


def test_creator_claims_membership_and_sees_it_pending(client, charlie, mu):
    client.force_login(charlie)
    response = client.post(
        reverse("accounts:membership-claim"), {"guild": mu.pk, "membership_number": "MU-1"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert GuildMembership.objects.get(user=charlie).status == "claimed"
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "Awaiting verification" in page


def test_claiming_the_same_guild_twice_shows_an_error(client, creator, wggb):
    client.force_login(creator)
    response = client.post(
        reverse("accounts:membership-claim"), {"guild": wggb.pk, "membership_number": "X"}
    )
    assert response.status_code == HTTPStatus.OK
    assert "already claimed" in response.content.decode()
    assert GuildMembership.objects.filter(user=creator).count() == 1


def test_claim_of_an_unknown_guild_is_refused(client, charlie):
    client.force_login(charlie)
    response = client.post(
        reverse("accounts:membership-claim"), {"guild": 99999, "membership_number": "X"}
    )
    assert response.status_code == HTTPStatus.OK
    assert not GuildMembership.objects.filter(user=charlie).exists()


def test_staff_reject_from_the_queue_with_a_reason(
    client, guild_staff, wggb, mailoutbox, django_capture_on_commit_callbacks
):
    claim = factories.MembershipFactory(guild=wggb)
    client.force_login(guild_staff)
    url = reverse("accounts:membership-decide", args=[claim.pk])
    response = client.post(url, {"decision": "reject", "reason": ""})
    assert response.status_code == HTTPStatus.OK
    assert "Say why" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"decision": "reject", "reason": "Number not found."})
    assert response.status_code == HTTPStatus.FOUND
    claim.refresh_from_db()
    assert claim.status == "rejected" and claim.reason == "Number not found."
    assert len(mailoutbox) == 1


def test_a_decided_claim_is_no_longer_in_the_queue_or_decidable(client, guild_staff, wggb):
    claim = factories.MembershipFactory(guild=wggb, verified=True)
    client.force_login(guild_staff)
    url = reverse("accounts:membership-decide", args=[claim.pk])
    assert client.get(url).status_code == HTTPStatus.OK  # history stays readable
    response = client.post(url, {"decision": "reject", "reason": "late"})
    assert "already been decided" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "verified"


def test_superuser_appoints_staff_after_signing_in(client, superuser, wggb, charlie, sign_in):
    sign_in(superuser)
    response = client.post(
        reverse("accounts:staff-appoint", args=[wggb.slug]), {"email": charlie.email}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert GuildStaffAppointment.objects.active().filter(user=charlie, guild=wggb).exists()
    assert AuditEvent.objects.filter(action="staff.appoint", actor=superuser).exists()


def test_role_change_asks_a_stale_session_to_reauthenticate(client, superuser, wggb, charlie):
    client.force_login(superuser)  # no record of a recent sign-in
    response = client.post(
        reverse("accounts:staff-appoint", args=[wggb.slug]), {"email": charlie.email}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not GuildStaffAppointment.objects.filter(user=charlie).exists()


def test_appointing_an_unknown_address_changes_nothing(client, superuser, wggb, sign_in):
    sign_in(superuser)
    client.post(
        reverse("accounts:staff-appoint", args=[wggb.slug]), {"email": "nobody@example.org"}
    )
    response = client.get(reverse("accounts:guild-detail", args=[wggb.slug]))
    assert "No active account uses this address." in response.content.decode()
    assert not GuildStaffAppointment.objects.filter(guild=wggb).exists()


def test_superuser_grants_and_revokes_registry_manager(client, superuser, charlie, sign_in):
    sign_in(superuser)
    url = reverse("accounts:registry-manager-set")
    client.post(url, {"email": charlie.email, "grant": "1"})
    charlie.refresh_from_db()
    assert charlie.is_registry_manager
    client.post(url, {"email": charlie.email, "grant": "0"})
    charlie.refresh_from_db()
    assert not charlie.is_registry_manager
    assert AuditEvent.objects.filter(action__startswith="role.registry_manager").count() == 2


def test_superuser_creates_a_guild_and_bad_slug_is_refused(client, superuser, sign_in):
    sign_in(superuser)
    url = reverse("accounts:guild-create")
    response = client.post(url, {"name": "Poets' Circle", "slug": "not a slug!"})
    assert response.status_code == HTTPStatus.OK
    response = client.post(url, {"name": "Poets' Circle", "slug": "poets"})
    assert response.status_code == HTTPStatus.FOUND
    assert AuditEvent.objects.filter(action="guild.create").count() == 1


@pytest.mark.parametrize("count", [3, 30])
def test_staff_queue_query_count_does_not_grow(
    client, guild_staff, wggb, count, django_assert_max_num_queries
):
    for _ in range(count):
        factories.MembershipFactory(guild=wggb, user=factories.CreatorProfileFactory().user)
    client.force_login(guild_staff)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("accounts:membership-queue"))
    assert response.status_code == HTTPStatus.OK
