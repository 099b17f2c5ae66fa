"""Adding, resending and removing notice contacts: one email per new address, audited."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from notices.models import DeveloperContact
from tests import factories


def _add(client, developer, email="legal@example-ai.example", label="Legal"):
    return client.post(
        reverse("notices:contact-add", args=[developer.slug]), {"email": email, "label": label}
    )


def _link(message) -> str:
    return re.search(r"https?://\S+/registry/confirm/\S+/", message.body).group(0)


def test_adding_a_contact_mails_one_confirmation_link(
    manager_client, registry_manager, developer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _add(manager_client, developer, email="Legal@Example-AI.example")

    assert response.status_code == HTTPStatus.FOUND
    contact = DeveloperContact.objects.get()
    assert contact.email == "legal@example-ai.example"
    assert contact.label == "Legal"
    assert contact.added_by == registry_manager
    assert contact.confirmed_at is None
    assert contact.confirmation_sent_at is not None
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["legal@example-ai.example"]
    assert "Example AI Ltd" in message.subject
    assert "registry@example.org added this address" in message.body
    assert "only after you confirm" in message.body
    link = _link(message)
    assert link.startswith("http")
    html = message.alternatives[0][0]
    assert link in html
    event = AuditEvent.objects.get(action="contact.add")
    assert event.actor == registry_manager
    assert event.object_id == str(contact.pk)
    assert event.after["email"] == "legal@example-ai.example"


def test_an_unconfirmed_contact_does_not_count(manager_client, developer):
    _add(manager_client, developer)

    assert DeveloperContact.objects.count() == 1
    assert not DeveloperContact.objects.confirmed().exists()
    assert list(developer.contacts.current()) == list(DeveloperContact.objects.all())


def test_no_email_leaves_before_the_transaction_commits(manager_client, developer, mailoutbox):
    # The test's transaction never commits: without running on-commit callbacks, nothing is sent.
    _add(manager_client, developer)

    assert DeveloperContact.objects.count() == 1
    assert mailoutbox == []


def test_an_address_already_listed_is_refused(manager_client, developer, mailoutbox):
    factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")

    response = _add(manager_client, developer, email="LEGAL@example-ai.example")

    assert response.status_code == HTTPStatus.OK
    assert "email" in response.context["form"].errors
    assert developer.contacts.count() == 1
    assert not AuditEvent.objects.exists()


def test_a_malformed_address_is_refused(manager_client, developer):
    response = _add(manager_client, developer, email="not an address<script>")

    assert response.status_code == HTTPStatus.OK
    assert "email" in response.context["form"].errors
    assert "<script>" not in response.content.decode()
    assert not DeveloperContact.objects.exists()


def test_a_removed_address_can_be_added_again_and_must_be_confirmed_anew(manager_client, developer):
    old = factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")
    manager_client.post(reverse("notices:contact-remove", args=[developer.slug, old.pk]))

    _add(manager_client, developer)

    new = developer.contacts.current().get()
    assert new.pk != old.pk
    assert new.confirmed_at is None


def test_removing_a_contact_stops_it_counting_and_is_recorded(
    manager_client, registry_manager, developer
):
    contact = factories.DeveloperContactFactory(developer=developer)

    response = manager_client.post(
        reverse("notices:contact-remove", args=[developer.slug, contact.pk])
    )

    assert response.status_code == HTTPStatus.FOUND
    contact.refresh_from_db()
    assert contact.removed_at is not None
    assert contact.removed_by == registry_manager
    assert not DeveloperContact.objects.confirmed().exists()
    event = AuditEvent.objects.get(action="contact.remove")
    assert event.before["state"] == "confirmed"
    assert event.after["state"] == "removed"
    page = manager_client.get(developer.get_absolute_url()).content.decode()
    assert "badge-removed" in page


def test_removing_is_post_only(manager_client, developer):
    contact = factories.DeveloperContactFactory(developer=developer)

    url = reverse("notices:contact-remove", args=[developer.slug, contact.pk])
    response = manager_client.get(url)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    contact.refresh_from_db()
    assert contact.removed_at is None


def test_a_contact_of_another_developer_is_404(manager_client, developer):
    contact = factories.DeveloperContactFactory()

    response = manager_client.post(
        reverse("notices:contact-remove", args=[developer.slug, contact.pk])
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    contact.refresh_from_db()
    assert contact.removed_at is None


def test_resending_mails_a_new_link(
    manager_client, developer, mailoutbox, django_capture_on_commit_callbacks
):
    contact = factories.DeveloperContactFactory(
        developer=developer,
        confirmed_at=None,
        confirmation_sent_at=timezone.now() - timedelta(hours=1),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("notices:contact-resend", args=[developer.slug, contact.pk])
        )

    assert response.status_code == HTTPStatus.FOUND
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [contact.email]
    assert AuditEvent.objects.filter(action="contact.resend").count() == 1


@pytest.mark.parametrize(
    "state",
    [
        {"confirmation_sent_at": timezone.now},  # just sent
        {"confirmed_at": timezone.now},  # nothing to confirm
        {"removed_at": timezone.now},
    ],
)
def test_resending_is_refused_when_pointless(
    manager_client, developer, mailoutbox, django_capture_on_commit_callbacks, state
):
    contact = factories.DeveloperContactFactory(
        developer=developer, **{"confirmed_at": None, **{k: v() for k, v in state.items()}}
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("notices:contact-resend", args=[developer.slug, contact.pk]), follow=True
        )

    assert response.status_code == HTTPStatus.OK
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert mailoutbox == []
    assert not AuditEvent.objects.exists()
