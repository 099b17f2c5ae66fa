"""The link mailed to a new contact: GET shows, POST confirms, anything forged changes nothing."""

import re
from http import HTTPStatus

import pytest
from django.core import signing
from django.urls import reverse

from accounts.models import AuditEvent
from notices import services
from notices.models import DeveloperContact
from tests import factories


@pytest.fixture
def pending(developer):
    return factories.DeveloperContactFactory(
        developer=developer, email="legal@example-ai.example", confirmed_at=None
    )


def _url(token: str) -> str:
    return reverse("notices:contact-confirm", args=[token])


def _token(contact) -> str:
    return services.contact_token_make(contact=contact)


def test_the_mailed_link_confirms_only_on_post(
    manager_client, client, developer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(
            reverse("notices:contact-add", args=[developer.slug]),
            {"email": "legal@example-ai.example"},
        )
    link = re.search(r"https?://\S+/registry/confirm/\S+/", mailoutbox[0].body).group(0)
    path = "/registry/" + link.split("/registry/", 1)[1]
    client.logout()  # the recipient has no account

    shown = client.get(path)

    contact = DeveloperContact.objects.get()
    assert shown.status_code == HTTPStatus.OK
    page = shown.content.decode()
    assert "Example AI Ltd" in page
    assert "legal@example-ai.example" in page
    assert "Confirm this address" in page
    assert 'method="post"' in page
    assert contact.confirmed_at is None

    done = client.post(path)

    contact.refresh_from_db()
    assert done.status_code == HTTPStatus.OK
    assert "Address confirmed" in done.content.decode()
    assert contact.confirmed_at is not None
    assert list(DeveloperContact.objects.confirmed()) == [contact]
    event = AuditEvent.objects.get(action="contact.confirm")
    assert event.actor is None
    assert "legal@example-ai.example" in event.reason


def test_confirming_twice_keeps_the_first_time(client, pending):
    url = _url(_token(pending))
    client.post(url)
    pending.refresh_from_db()
    first = pending.confirmed_at

    again = client.post(url)

    pending.refresh_from_db()
    assert again.status_code == HTTPStatus.OK
    assert "already confirmed" in again.content.decode()
    assert pending.confirmed_at == first
    assert AuditEvent.objects.filter(action="contact.confirm").count() == 1
    assert "already confirmed" in client.get(url).content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_is_refused(client, pending, method):
    token = _token(pending)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    response = getattr(client, method)(_url(tampered))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "not valid" in response.content.decode()
    pending.refresh_from_db()
    assert pending.confirmed_at is None
    assert not AuditEvent.objects.exists()


def test_a_token_signed_for_another_purpose_is_refused(client, pending):
    forged = signing.dumps({"c": pending.pk, "e": pending.email})  # default salt

    response = client.post(_url(forged))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    pending.refresh_from_db()
    assert pending.confirmed_at is None


def test_a_token_for_another_address_is_refused(client, pending):
    forged = signing.dumps(
        {"c": pending.pk, "e": "attacker@example.net"}, salt=services.CONTACT_CONFIRM_SALT
    )

    response = client.post(_url(forged))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    pending.refresh_from_db()
    assert pending.confirmed_at is None


def test_an_expired_token_is_refused(client, pending, settings):
    token = _token(pending)
    settings.REGISTRY_CONTACT_CONFIRM_MAX_AGE = -1

    for method in (client.get, client.post):
        response = method(_url(token))
        assert response.status_code == HTTPStatus.GONE
        assert "expired" in response.content.decode()
    pending.refresh_from_db()
    assert pending.confirmed_at is None
    assert not AuditEvent.objects.exists()


def test_a_token_within_its_lifetime_works(client, pending, settings):
    settings.REGISTRY_CONTACT_CONFIRM_MAX_AGE = 3600

    assert client.post(_url(_token(pending))).status_code == HTTPStatus.OK

    pending.refresh_from_db()
    assert pending.confirmed_at is not None


def test_a_token_for_a_removed_contact_is_refused(client, manager_client, developer, pending):
    token = _token(pending)
    manager_client.post(reverse("notices:contact-remove", args=[developer.slug, pending.pk]))
    client.logout()

    response = client.post(_url(token))

    assert response.status_code == HTTPStatus.GONE
    assert "removed" in response.content.decode()
    pending.refresh_from_db()
    assert pending.confirmed_at is None
    assert not DeveloperContact.objects.confirmed().exists()


def test_the_confirmation_page_is_not_cached(client, pending):
    response = client.get(_url(_token(pending)))

    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
