"""Mandates: the creator lets their guild's staff change their choices; they can then, and only
then — each change recorded with their name and emailed to them as a receipt."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from accounts.models import Mandate
from consent import decisions, services
from consent.models import LedgerEntry, Preference
from tests import factories


@pytest.fixture
def book(creator):
    return factories.WorkFactory(owner=creator, title="The Quiet Harbour", kind="book")


@pytest.fixture
def mandate(creator, wggb):
    return services.mandate_grant(creator=creator, guild=wggb)


def _defaults(**choices):
    data = {"section": "defaults"}
    for use in ["train_genai", "train_ai", "ai_input", "style"]:
        data[f"defaults-{use}"] = choices.get(use, "deny")
    data["defaults-search"] = choices.get("search", "allow")
    return data


def _member_urls(member, work):
    return [
        reverse("consent:member-preferences", args=[member.ref]),
        reverse("consent:member-work", args=[member.ref, work.public_id]),
    ]


# --- The creator's page ------------------------------------------------------------------------


def test_the_page_offers_a_mandate_to_each_verified_guild(client, creator, wggb, mu):
    factories.MembershipFactory(user=creator, guild=mu)  # claimed, not verified
    client.force_login(creator)
    page = client.get(reverse("consent:mandates")).content.decode()
    assert "Give Writers&#x27; Guild of Great Britain a mandate" in page
    assert "Musicians" not in page


def test_giving_and_revoking_a_mandate(client, sign_in, creator, wggb):
    sign_in(creator)
    response = client.post(reverse("consent:mandate-grant", args=[wggb.slug]), follow=True)
    assert "may now change your AI choices" in response.content.decode()
    mandate = Mandate.objects.active().get(creator=creator, guild=wggb)
    client.post(reverse("consent:mandate-revoke", args=[mandate.pk]))
    mandate.refresh_from_db()
    assert mandate.revoked_at is not None


def test_giving_a_mandate_asks_for_the_password_again(client, sign_in, creator, wggb):
    sign_in(creator, reauthenticate=False)
    response = client.post(reverse("consent:mandate-grant", args=[wggb.slug]))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not Mandate.objects.exists()


def test_no_mandate_to_a_guild_they_are_not_a_verified_member_of(client, sign_in, creator, mu):
    sign_in(creator)
    response = client.post(reverse("consent:mandate-grant", args=[mu.slug]))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not Mandate.objects.exists()


def test_another_creator_cannot_revoke_their_mandate(client, sign_in, other_creator, mandate):
    sign_in(other_creator)
    response = client.post(reverse("consent:mandate-revoke", args=[mandate.pk]))
    assert response.status_code == HTTPStatus.NOT_FOUND
    mandate.refresh_from_db()
    assert mandate.revoked_at is None


# --- Staff -------------------------------------------------------------------------------------


def test_staff_without_a_mandate_get_404(client, guild_staff, creator, book):
    client.force_login(guild_staff)
    for url in _member_urls(creator, book):
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND
        assert client.post(url, _defaults(train_ai="allow")).status_code == HTTPStatus.NOT_FOUND
    assert not Preference.objects.exists()


def test_staff_of_another_guild_get_404(client, other_guild_staff, creator, book, mandate):
    client.force_login(other_guild_staff)
    for url in _member_urls(creator, book):
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("persona", ["other_creator", "charlie", "superuser"])
def test_nobody_else_acts_for_them(client, request, persona, creator, book, mandate):
    client.force_login(request.getfixturevalue(persona))
    for url in _member_urls(creator, book):
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND


def test_staff_with_a_mandate_see_whose_choices_they_change(
    client, guild_staff, creator, book, mandate
):
    client.force_login(guild_staff)
    for url in _member_urls(creator, book):
        page = client.get(url).content.decode()
        assert "You are changing Alice Author’s choices" in page
        assert "Writers&#x27; Guild of Great Britain" in page


def test_staff_change_their_defaults_and_the_member_gets_a_receipt_saying_so(
    client, guild_staff, creator, mandate, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(guild_staff)
    url = reverse("consent:member-preferences", args=[creator.ref])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, _defaults(train_ai="licence"), follow=True)
    assert "a receipt is on its way to Alice Author’s inbox" in response.content.decode()
    assert decisions.defaults_for(creator)["train-ai"].choice == "licence"
    entry = LedgerEntry.objects.get()
    assert f'"actor":"user:{guild_staff.ref}"' in entry.canonical
    assert f'"on_behalf_of":"user:{creator.ref}"' in entry.canonical
    (receipt,) = mailoutbox
    assert receipt.to == [creator.email]
    assert "made for you by" in receipt.body and entry.hash in receipt.body


def test_staff_change_one_of_their_works(
    client, guild_staff, creator, book, mandate, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(guild_staff)
    url = reverse("consent:member-work", args=[creator.ref, book.public_id])
    data = {"train_genai": "licence", "train_ai": "licence", "ai_input": "default"}
    data.update({"search": "default", "style": "default"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND
    assert decisions.decide(book, "train-genai").choice == "licence"
    assert "made for you by" in mailoutbox[0].body


def test_staff_cannot_reach_another_members_work_through_their_mandate(
    client, guild_staff, creator, other_creator, mandate
):
    theirs = factories.WorkFactory(owner=other_creator)
    client.force_login(guild_staff)
    url = reverse("consent:member-work", args=[creator.ref, theirs.public_id])
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


def test_a_revoked_mandate_closes_the_pages_again(client, guild_staff, creator, book, mandate):
    services.mandate_revoke(creator=creator, mandate=mandate)
    client.force_login(guild_staff)
    for url in _member_urls(creator, book):
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND
        assert client.post(url, _defaults(train_ai="allow")).status_code == HTTPStatus.NOT_FOUND
    assert not Preference.objects.exists()


def test_the_members_list_shows_who_gave_a_mandate(client, guild_staff, creator, mandate, wggb):
    someone = factories.CreatorProfileFactory(display_name="Nora Nomandate").user
    factories.MembershipFactory(user=someone, guild=wggb, verified=True)
    client.force_login(guild_staff)
    page = client.get(reverse("consent:members")).content.decode()
    assert "Alice Author" in page and "Nora Nomandate" not in page
    assert reverse("consent:member-preferences", args=[creator.ref]) in page


def test_staff_of_another_guild_do_not_see_them_in_their_list(client, other_guild_staff, mandate):
    client.force_login(other_guild_staff)
    assert "Alice Author" not in client.get(reverse("consent:members")).content.decode()


def test_the_members_list_is_for_guild_staff(client, creator):
    client.force_login(creator)
    assert client.get(reverse("consent:members")).status_code == HTTPStatus.FORBIDDEN


def test_anonymous_visitor_is_sent_to_sign_in(client, creator, book, mandate, wggb):
    for url in [
        reverse("consent:mandate-grant", args=[wggb.slug]),
        reverse("consent:mandate-revoke", args=[mandate.pk]),
        *_member_urls(creator, book),
    ]:
        response = client.post(url)
        assert response["Location"].startswith(reverse("account_login")), url
    mandate.refresh_from_db()
    assert mandate.revoked_at is None
