"""A change that could divert notices asks the manager for their password again first."""

from http import HTTPStatus
from urllib.parse import urlencode

from django.urls import reverse

from accounts.models import AuditEvent
from notices.models import DeveloperContact
from tests import factories


def test_adding_a_contact_asks_for_the_password_then_carries_on(
    sign_in, developer, mailoutbox, django_capture_on_commit_callbacks
):
    client = sign_in(factories.UserFactory(is_registry_manager=True), reauthenticate=False)
    url = reverse("notices:contact-add", args=[developer.slug])

    assert client.get(url).status_code == HTTPStatus.OK  # the form itself is shown
    asked = client.post(url, {"email": "legal@example-ai.example"})

    assert asked.status_code == HTTPStatus.FOUND
    assert asked.url.startswith(reverse("account_reauthenticate"))
    assert not DeveloperContact.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        resumed = client.post(
            f"{reverse('account_reauthenticate')}?{urlencode({'next': url})}",
            {"password": factories.PASSWORD, "next": url},
        )

    assert resumed.status_code == HTTPStatus.FOUND
    assert resumed.url == developer.get_absolute_url()
    assert DeveloperContact.objects.get().email == "legal@example-ai.example"
    assert len(mailoutbox) == 1


def test_a_stale_authentication_is_asked_again_before_removing_a_contact(
    manager_client, developer, settings
):
    contact = factories.DeveloperContactFactory(developer=developer)
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0  # the password entered above is now too old

    response = manager_client.post(
        reverse("notices:contact-remove", args=[developer.slug, contact.pk])
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("account_reauthenticate"))
    contact.refresh_from_db()
    assert contact.removed_at is None
    assert not AuditEvent.objects.exists()


def test_a_stale_authentication_is_asked_again_before_editing_a_developer(
    manager_client, developer, settings
):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    url = reverse("notices:developer-edit", args=[developer.slug])

    assert manager_client.get(url).status_code == HTTPStatus.OK
    response = manager_client.post(
        url, {"name": "Renamed", "slug": developer.slug, "is_active": "on"}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("account_reauthenticate"))
    developer.refresh_from_db()
    assert developer.name == "Example AI Ltd"


def test_guild_staff_get_403_rather_than_a_password_prompt(client, guild_staff, developer):
    client.force_login(guild_staff)

    response = client.post(
        reverse("notices:contact-add", args=[developer.slug]), {"email": "x@example.net"}
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
