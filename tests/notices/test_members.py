"""An organisation's people: a registry manager invites an address, its owner accepts through
the mailed link signed in with that address verified, and managers revoke and remove."""

import re
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from notices import services
from notices.access import developer_of
from notices.models import DeveloperInvitation, DeveloperMember
from tests import factories

INVITED = "newcomer@example-ai.example"


def _link_path(message) -> str:
    link = re.search(r"https?://\S+/developer/invitations/\S+/", message.body).group(0)
    return urlsplit(link).path


def _url(invitation) -> str:
    return reverse(
        "developer:invitation", args=[services.invitation_token_make(invitation=invitation)]
    )


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def invitation(developer, registry_manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.invitation_create(
            actor=registry_manager, developer=developer, email=INVITED
        )


@pytest.fixture
def invitee(db):
    """The owner of the invited address (verified), with no organisation yet."""
    return factories.UserFactory(email=INVITED)


# --- End to end ---------------------------------------------------------------------------------


def test_manager_invites_and_the_owner_of_the_address_joins_through_the_mailed_link(
    manager_client, developer, invitee, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = manager_client.post(
            reverse("notices:invitation-create", args=[developer.slug]),
            {"email": " NewComer@Example-AI.example "},
        )
    assert sent.status_code == HTTPStatus.FOUND
    assert sent.url == developer.get_absolute_url()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [INVITED]
    assert "Example AI Ltd" in mailoutbox[0].subject
    path = _link_path(mailoutbox[0])
    html = mailoutbox[0].alternatives[0][0]
    assert path in html

    client = _signed_in(invitee)
    shown = client.get(path)

    assert shown.status_code == HTTPStatus.OK
    page = shown.content.decode()
    assert "Example AI Ltd" in page
    assert "Accept the invitation" in page
    assert 'method="post"' in page
    assert not DeveloperMember.objects.exists()  # opening the link changes nothing
    assert DeveloperInvitation.objects.get().state == "open"
    assert shown["Cache-Control"].count("no-store") == 1

    accepted = client.post(path)

    assert accepted.status_code == HTTPStatus.FOUND
    assert accepted.url == reverse("developer:home")
    member = DeveloperMember.objects.get()
    assert (member.user, member.developer) == (invitee, developer)
    invitation = DeveloperInvitation.objects.get()
    assert invitation.state == "accepted"
    assert invitation.accepted_by == invitee
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "invitation.create",
        "invitation.accept",
    }
    home = client.get(reverse("developer:home"))
    assert home.status_code == HTTPStatus.OK
    assert "Welcome: you now act for Example AI Ltd" in home.content.decode()


def test_a_newcomer_signs_up_verifies_their_address_and_comes_back_to_accept(
    client, invitation, mailoutbox, settings, django_capture_on_commit_callbacks
):
    path = _link_path(mailoutbox[0])
    mailoutbox.clear()

    anonymous = client.get(path)

    assert anonymous.status_code == HTTPStatus.OK
    page = anonymous.content.decode()
    assert "Sign in" in page and "Create an account" in page
    signup = re.search(r'href="(/accounts/signup/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(signup).query)["next"] == [path]
    assert "Accept the invitation" not in page

    with django_capture_on_commit_callbacks(execute=True):
        signed_up = client.post(
            signup,
            {"email": INVITED, "password1": factories.PASSWORD, "password2": factories.PASSWORD},
        )
    assert signed_up.status_code == HTTPStatus.FOUND
    confirm = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body).group(0)
    confirmed = client.post(urlsplit(confirm).path, follow=True)

    assert confirmed.redirect_chain[-1][0] == path
    assert "Accept the invitation" in confirmed.content.decode()
    assert EmailAddress.objects.get(email=INVITED).verified
    accepted = client.post(path)
    assert accepted.url == reverse("developer:home")
    assert DeveloperMember.objects.get(developer=invitation.developer).user.email == INVITED


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_is_refused(invitee, invitation, method):
    url = _url(invitation)
    tampered = url[:-4] + ("AAA/" if not url.endswith("AAA/") else "BBB/")

    response = getattr(_signed_in(invitee), method)(tampered)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "not valid" in response.content.decode()
    assert not DeveloperMember.objects.exists()


def test_a_token_signed_for_another_purpose_is_refused(client, invitee, invitation):
    forged = signing.dumps({"i": invitation.pk, "e": INVITED})  # the default salt

    response = _signed_in(invitee).post(reverse("developer:invitation", args=[forged]))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not DeveloperMember.objects.exists()


def test_a_token_naming_another_address_is_refused(invitee, invitation):
    forged = signing.dumps(
        {"i": invitation.pk, "e": "mallory@example.net"}, salt=services.INVITATION_SALT
    )

    response = _signed_in(invitee).post(reverse("developer:invitation", args=[forged]))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not DeveloperMember.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_link_is_gone(invitee, invitation, settings, method):
    url = _url(invitation)
    settings.NOTICES_INVITATION_MAX_AGE = -1  # the link above is now too old

    response = getattr(_signed_in(invitee), method)(url)

    assert response.status_code == HTTPStatus.GONE
    assert "expired" in response.content.decode()
    assert not DeveloperMember.objects.exists()
    assert DeveloperInvitation.objects.get().accepted_at is None


def test_an_invitation_older_than_its_validity_is_gone_even_with_a_fresh_link(invitee, invitation):
    DeveloperInvitation.objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - timedelta(days=8)
    )

    response = _signed_in(invitee).post(_url(invitation))

    assert response.status_code == HTTPStatus.GONE
    assert not DeveloperMember.objects.exists()


def test_a_revoked_invitation_is_gone(client, invitee, invitation, registry_manager):
    url = _url(invitation)
    services.invitation_revoke(actor=registry_manager, invitation=invitation)

    assert client.get(url).status_code == HTTPStatus.GONE  # anonymous too
    response = _signed_in(invitee).post(url)

    assert response.status_code == HTTPStatus.GONE
    assert "withdrawn" in response.content.decode()
    assert not DeveloperMember.objects.exists()


def test_an_invitation_used_by_someone_else_is_gone(invitee, invitation):
    url = _url(invitation)
    _signed_in(invitee).post(url)
    # Someone else who also holds the address now (it moved to another account).
    EmailAddress.objects.filter(email=INVITED).delete()
    other = factories.UserFactory(email="other@example.net")
    EmailAddress.objects.create(user=other, email=INVITED, verified=True)

    response = _signed_in(other).post(url)

    assert response.status_code == HTTPStatus.GONE
    assert "already been used" in response.content.decode()
    assert DeveloperMember.objects.get().user == invitee


def test_a_removed_person_cannot_come_back_with_their_old_link(
    invitee, invitation, registry_manager
):
    url = _url(invitation)
    client = _signed_in(invitee)
    client.post(url)
    services.member_remove(actor=registry_manager, member=invitee.developer_membership)

    shown = client.get(url)
    response = client.post(url)

    assert shown.status_code == response.status_code == HTTPStatus.GONE
    assert not DeveloperMember.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_wrong_signed_in_address_is_told_which_address_was_invited(invitation, charlie, method):
    response = getattr(_signed_in(charlie), method)(_url(invitation))

    assert response.status_code == HTTPStatus.FORBIDDEN
    page = response.content.decode()
    assert f"This invitation was sent to {INVITED}" in page
    assert "charlie@example.org" in page
    assert "Accept the invitation" not in page
    assert "registry@example.org" not in page  # who invited stays with the registry
    assert not DeveloperMember.objects.exists()
    assert DeveloperInvitation.objects.get().state == "open"


def test_an_unverified_address_on_the_account_is_not_enough(invitation, charlie):
    EmailAddress.objects.create(user=charlie, email=INVITED, verified=False)

    response = _signed_in(charlie).post(_url(invitation))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "not verified yet" in response.content.decode()
    assert not DeveloperMember.objects.exists()


def test_a_verified_second_address_is_enough(invitation, charlie):
    EmailAddress.objects.create(user=charlie, email=INVITED.upper(), verified=True)

    response = _signed_in(charlie).post(_url(invitation))

    assert response.url == reverse("developer:home")
    assert DeveloperMember.objects.get().user == charlie


@pytest.mark.parametrize("method", ["get", "post"])
def test_someone_acting_for_another_organisation_cannot_accept(
    invitation, other_developer_user, method
):
    EmailAddress.objects.create(user=other_developer_user, email=INVITED, verified=True)

    response = getattr(_signed_in(other_developer_user), method)(_url(invitation))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "You already act for Other Models Inc" in response.content.decode()
    assert developer_of(other_developer_user).slug == "other-models"
    assert DeveloperMember.objects.filter(developer=invitation.developer).count() == 0
    assert DeveloperInvitation.objects.get().state == "open"


def test_accepting_twice_records_one_membership(invitee, invitation):
    url = _url(invitation)
    client = _signed_in(invitee)

    first = client.post(url)
    again = client.post(url)

    assert first.url == again.url == reverse("developer:home")
    assert DeveloperMember.objects.count() == 1
    assert AuditEvent.objects.filter(action="invitation.accept").count() == 1
    assert services.invitation_accept(user=invitee, token=url.split("/")[-2]).user == invitee
    assert AuditEvent.objects.filter(action="invitation.accept").count() == 1
    assert client.get(url).url == reverse("developer:home")


def test_an_anonymous_post_is_sent_to_sign_in(client, invitation):
    url = _url(invitation)

    response = client.post(url)

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("account_login"))
    assert not DeveloperMember.objects.exists()


# --- The services' own rules ----------------------------------------------------------------


def test_an_address_already_acting_for_an_organisation_cannot_be_invited(
    registry_manager, developer, other_developer_user
):
    with pytest.raises(ValidationError) as caught:
        services.invitation_create(
            actor=registry_manager, developer=developer, email="OSCAR@other-models.example"
        )

    assert "already acts for Other Models Inc" in caught.value.message_dict["email"][0]
    assert not DeveloperInvitation.objects.exists()


def test_an_open_invitation_is_not_sent_twice(registry_manager, developer, invitation, mailoutbox):
    with pytest.raises(ValidationError) as caught:
        services.invitation_create(actor=registry_manager, developer=developer, email=INVITED)

    assert (
        "already has an open invitation to this organisation"
        in caught.value.message_dict["email"][0]
    )
    assert DeveloperInvitation.objects.count() == 1


def test_an_expired_open_invitation_is_replaced(
    registry_manager, developer, invitation, mailoutbox, django_capture_on_commit_callbacks
):
    DeveloperInvitation.objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - timedelta(days=8)
    )

    with django_capture_on_commit_callbacks(execute=True):
        fresh = services.invitation_create(
            actor=registry_manager, developer=developer, email=INVITED
        )

    invitation.refresh_from_db()
    assert invitation.state == "revoked"
    assert fresh.state == "open"
    assert len(mailoutbox) == 2


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b@c.example"])
def test_an_invalid_address_is_refused(registry_manager, developer, email):
    with pytest.raises(ValidationError):
        services.invitation_create(actor=registry_manager, developer=developer, email=email)
    assert not DeveloperInvitation.objects.exists()


def test_only_registry_managers_invite_revoke_and_remove(
    developer_user, guild_staff, developer, invitation
):
    member = DeveloperMember.objects.get(user=developer_user)
    for actor in (developer_user, guild_staff):
        with pytest.raises(PermissionDenied):
            services.invitation_create(actor=actor, developer=developer, email="x@example.net")
        with pytest.raises(PermissionDenied):
            services.invitation_revoke(actor=actor, invitation=invitation)
        with pytest.raises(PermissionDenied):
            services.member_remove(actor=actor, member=member)
    assert DeveloperInvitation.objects.count() == 1
    assert DeveloperMember.objects.count() == 1


def test_an_accepted_invitation_cannot_be_revoked(registry_manager, invitee, invitation):
    services.invitation_accept(user=invitee, token=_url(invitation).split("/")[-2])

    with pytest.raises(ValidationError, match="remove the person instead"):
        services.invitation_revoke(actor=registry_manager, invitation=invitation)


# --- The registry manager's page ----------------------------------------------------------------


def test_the_developer_page_lists_people_and_invitations_with_their_state(
    manager_client, developer, developer_user, invitation, registry_manager
):
    revoked = services.invitation_create(
        actor=registry_manager, developer=developer, email="gone@example-ai.example"
    )
    services.invitation_revoke(actor=registry_manager, invitation=revoked)

    page = manager_client.get(developer.get_absolute_url()).content.decode()

    assert "dana@example-ai.example" in page
    assert INVITED in page and "Open" in page
    assert "gone@example-ai.example" in page and "Revoked" in page
    assert (
        reverse(
            "notices:member-remove", args=[developer.slug, developer_user.developer_membership.pk]
        )
        in page
    )
    assert reverse("notices:invitation-revoke", args=[developer.slug, invitation.pk]) in page
    assert "Send the invitation" in page
    assert reverse("apikeys:staff-keys", args=[developer.slug]) in page


def test_guild_staff_see_the_people_but_no_forms(
    client, guild_staff, developer, developer_user, invitation
):
    client.force_login(guild_staff)

    page = client.get(developer.get_absolute_url()).content.decode()

    assert "dana@example-ai.example" in page
    assert INVITED in page
    assert "Send the invitation" not in page
    assert "/people/" not in page and "/revoke/" not in page


def test_the_manager_revokes_an_invitation_and_removes_a_person(
    manager_client, client, developer, developer_user, invitation
):
    member = developer_user.developer_membership

    revoked = manager_client.post(
        reverse("notices:invitation-revoke", args=[developer.slug, invitation.pk])
    )
    removed = manager_client.post(
        reverse("notices:member-remove", args=[developer.slug, member.pk])
    )

    assert revoked.url == removed.url == developer.get_absolute_url()
    invitation.refresh_from_db()
    assert invitation.state == "revoked"
    assert not DeveloperMember.objects.exists()
    event = AuditEvent.objects.get(action="member.remove")
    assert event.before == {"developer": "example-ai", "email": "dana@example-ai.example"}
    # Dana keeps their account but no longer sees the organisation.
    assert (
        _signed_in(developer_user).get(reverse("developer:home")).status_code
        == HTTPStatus.NOT_FOUND
    )


def test_an_invalid_invitation_shows_the_error_on_the_field(manager_client, developer, mailoutbox):
    response = manager_client.post(
        reverse("notices:invitation-create", args=[developer.slug]), {"email": "not an address"}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert 'aria-describedby="id_email_helptext id_email_error"' in page
    assert "Enter a valid email address" in page
    assert not DeveloperInvitation.objects.exists()
    assert mailoutbox == []


def test_a_duplicate_invitation_is_refused_on_the_page(
    manager_client, developer, invitation, mailoutbox
):
    response = manager_client.post(
        reverse("notices:invitation-create", args=[developer.slug]), {"email": INVITED}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "already has an open invitation" in response.content.decode()
    assert DeveloperInvitation.objects.count() == 1


def test_writes_ask_for_the_password_again_when_it_is_stale(
    manager_client, developer, developer_user, invitation, settings
):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    member = developer_user.developer_membership

    for url, data in [
        (reverse("notices:invitation-create", args=[developer.slug]), {"email": "x@example.net"}),
        (reverse("notices:invitation-revoke", args=[developer.slug, invitation.pk]), {}),
        (reverse("notices:member-remove", args=[developer.slug, member.pk]), {}),
    ]:
        response = manager_client.post(url, data)
        assert response.status_code == HTTPStatus.FOUND
        assert response.url.startswith(reverse("account_reauthenticate"))

    assert DeveloperInvitation.objects.get().state == "open"
    assert DeveloperMember.objects.count() == 1


@pytest.fixture
def people_urls(developer, developer_user, invitation):
    member = developer_user.developer_membership
    return [
        ("get", reverse("notices:invitation-create", args=[developer.slug])),
        ("post", reverse("notices:invitation-create", args=[developer.slug])),
        ("post", reverse("notices:invitation-revoke", args=[developer.slug, invitation.pk])),
        ("post", reverse("notices:member-remove", args=[developer.slug, member.pk])),
    ]


def test_anonymous_people_are_sent_to_sign_in(client, people_urls):
    for method, url in people_urls:
        response = getattr(client, method)(
            url, {"email": "x@example.net"} if method == "post" else None
        )
        assert response.status_code == HTTPStatus.FOUND, url
        assert response.url.startswith(reverse("account_login")), url
    assert DeveloperInvitation.objects.get().state == "open"
    assert DeveloperMember.objects.count() == 1


@pytest.mark.parametrize("persona", ["creator", "guild_staff", "developer_user", "charlie"])
def test_anyone_but_a_registry_manager_gets_403(request, client, people_urls, persona):
    client.force_login(request.getfixturevalue(persona))

    for method, url in people_urls:
        response = getattr(client, method)(
            url, {"email": "x@example.net"} if method == "post" else None
        )
        assert response.status_code == HTTPStatus.FORBIDDEN, url
    assert DeveloperInvitation.objects.count() == 1
    assert DeveloperMember.objects.count() == 1


@pytest.mark.parametrize("persona", ["creator", "developer_user"])
def test_the_developer_page_is_not_for_creators_or_developers(request, client, developer, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(developer.get_absolute_url()).status_code == HTTPStatus.FORBIDDEN


def test_another_developers_invitation_or_person_is_404_under_this_slug(
    manager_client, developer, other_developer, other_developer_user, registry_manager
):
    theirs = services.invitation_create(
        actor=registry_manager, developer=other_developer, email="x@other-models.example"
    )
    member = other_developer_user.developer_membership

    revoke = manager_client.post(
        reverse("notices:invitation-revoke", args=[developer.slug, theirs.pk])
    )
    remove = manager_client.post(reverse("notices:member-remove", args=[developer.slug, member.pk]))

    assert revoke.status_code == remove.status_code == HTTPStatus.NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.state == "open"
    assert DeveloperMember.objects.filter(pk=member.pk).exists()


@pytest.mark.parametrize("count", [1, 12])
def test_the_developer_page_costs_the_same_whatever_the_number_of_people(
    manager_client, developer, registry_manager, count, django_assert_max_num_queries
):
    for n in range(count):
        factories.DeveloperMemberFactory(
            developer=developer, invited_by=registry_manager, user__email=f"p{n}@example-ai.example"
        )
        DeveloperInvitation.objects.create(
            developer=developer, email=f"i{n}@example-ai.example", invited_by=registry_manager
        )

    with django_assert_max_num_queries(14):
        response = manager_client.get(developer.get_absolute_url())

    assert response.content.decode().count("@example-ai.example") >= 2 * count
