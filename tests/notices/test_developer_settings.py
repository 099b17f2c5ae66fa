"""The organisation's settings: its webhook (secret shown once, rotated with an overlap, a
disabled endpoint re-enabled by saving its URL) and its consent digest frequency."""

import re
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from notices.crypto import decrypt
from notices.models import AIDeveloper, WebhookEndpoint
from notices.services import digest_frequency_set, webhook_endpoint_set
from tests import factories

URL = "https://hooks.example-ai.example/portal"
SETTINGS = "developer:settings"


@pytest.fixture
def dana(sign_in, developer_user):
    """Dana, signed in with a recent re-authentication."""
    return sign_in(developer_user)


def _set(client, url=URL):
    return client.post(reverse("developer:webhook-set"), {"url": url})


def _secret_in(page: str) -> str:
    """The secret shown in the page's "Signing secret" box."""
    return re.search(r'<textarea id="new-secret"[^>]*>(whsec_[^<]+)</textarea>', page).group(1)


# --- Access -------------------------------------------------------------------------------------


WRITES = [
    ("developer:webhook-set", {"url": URL}),
    ("developer:webhook-rotate", {"overlap_seconds": "0"}),
    ("developer:digest-set", {"digest_frequency": "daily"}),
]


def test_anonymous_people_are_sent_to_sign_in(client, developer):
    for name, data in [(SETTINGS, None), *WRITES]:
        method = client.get if data is None else client.post
        response = method(reverse(name), data)
        assert response.status_code == HTTPStatus.FOUND, name
        assert response.url.startswith(reverse("account_login")), name
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("persona", ["creator", "guild_staff", "registry_manager", "charlie"])
def test_anyone_who_acts_for_no_developer_gets_404(request, sign_in, developer, persona):
    client = sign_in(request.getfixturevalue(persona))

    for name, data in [(SETTINGS, None), *WRITES]:
        method = client.get if data is None else client.post
        assert method(reverse(name), data).status_code == HTTPStatus.NOT_FOUND, name
    developer.refresh_from_db()
    assert developer.digest_frequency == AIDeveloper.DigestFrequency.WEEKLY
    assert not WebhookEndpoint.objects.exists()


def test_writes_are_post_only(dana):
    for name, _data in WRITES:
        assert dana.get(reverse(name)).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_another_organisations_webhook_is_never_shown(dana, other_developer, other_developer_user):
    webhook_endpoint_set(
        actor=other_developer_user, developer=other_developer, url="https://hooks.other.example/x"
    )

    page = dana.get(reverse(SETTINGS)).content.decode()

    assert "hooks.other.example" not in page
    assert "No webhook yet" in page


# --- The webhook and its secret -----------------------------------------------------------------


def test_a_new_webhooks_secret_is_shown_once_then_never_again(dana, developer):
    response = _set(dana)

    assert response.status_code == HTTPStatus.OK  # rendered, not redirected
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    secret = _secret_in(page)
    assert secret.startswith("whsec_")
    assert "shown only this once" in page
    assert "Standard Webhooks" in page
    endpoint = WebhookEndpoint.objects.get(developer=developer)
    assert endpoint.url == URL
    assert endpoint.signing_secrets() == [secret]
    assert secret not in endpoint.secret_encrypted  # stored encrypted

    later = dana.get(reverse(SETTINGS))

    assert secret not in later.content.decode()
    assert "whsec_" not in later.content.decode().replace("<code>whsec_</code>", "")
    assert "A secret is set; it is never shown again." in later.content.decode()
    assert "no-store" in later["Cache-Control"]


def test_changing_the_url_keeps_the_secret_and_shows_none(dana, developer):
    secret = _secret_in(_set(dana).content.decode())

    response = _set(dana, "https://new-hooks.example-ai.example/v2")

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse(SETTINGS)
    endpoint = WebhookEndpoint.objects.get(developer=developer)
    assert endpoint.url == "https://new-hooks.example-ai.example/v2"
    assert endpoint.signing_secrets() == [secret]
    page = dana.get(response.url).content.decode()
    assert "Notices now go to https://new-hooks.example-ai.example/v2" in page
    assert secret not in page


@pytest.mark.parametrize(
    "overlap, kept", [("0", False), ("86400", True), ("604800", True)], ids=["none", "24h", "7d"]
)
def test_rotating_shows_the_new_secret_once_and_the_old_one_signs_during_the_overlap(
    dana, developer, overlap, kept
):
    old = _secret_in(_set(dana).content.decode())

    response = dana.post(reverse("developer:webhook-rotate"), {"overlap_seconds": overlap})

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    new = _secret_in(response.content.decode())
    assert new != old
    endpoint = WebhookEndpoint.objects.get(developer=developer)
    assert endpoint.signing_secrets() == ([new, old] if kept else [new])
    later = dana.get(reverse(SETTINGS)).content.decode()
    assert new not in later and old not in later
    assert ("The previous secret also signs until" in later) is kept
    event = AuditEvent.objects.get(action="webhook.secret_rotate")
    assert event.actor.email == "dana@example-ai.example"
    assert event.after["overlap_seconds"] == int(overlap)


def test_rotating_without_a_webhook_is_refused(dana):
    response = dana.post(reverse("developer:webhook-rotate"), {"overlap_seconds": "0"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Set a webhook URL first" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_unknown_overlap_is_refused(dana, developer):
    old = _secret_in(_set(dana).content.decode())

    response = dana.post(reverse("developer:webhook-rotate"), {"overlap_seconds": "31536000"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Select a valid choice" in response.content.decode()
    assert WebhookEndpoint.objects.get().signing_secrets() == [old]


@pytest.mark.parametrize(
    "url, error",
    [
        ("http://hooks.example-ai.example/portal", "must use https"),
        ("not a url", "Enter a valid URL"),
        ("https://10.0.0.7/portal", "not a public address"),
        ("https://192.168.1.20:8443/portal", "not a public address"),
        ("https://[::ffff:127.0.0.1]/portal", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("https://localhost/portal", "not a public address"),
        ("https://admin:hunter2@hooks.example-ai.example/", "must not carry credentials"),
        ("", "This field is required"),
    ],
)
def test_a_refused_url_is_shown_on_the_field_and_changes_nothing(
    dana, developer, settings, url, error
):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False
    webhook_endpoint_set(
        actor=factories.UserFactory(is_registry_manager=True), developer=developer, url=URL
    )
    before = WebhookEndpoint.objects.get()

    response = _set(dana, url)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert error in page
    assert 'aria-describedby="id_url_helptext id_url_error"' in page
    assert "whsec_" not in page.replace("<code>whsec_</code>", "")
    after = WebhookEndpoint.objects.get()
    assert (after.url, after.secret_encrypted) == (before.url, before.secret_encrypted)
    assert AuditEvent.objects.filter(action="webhook.set").count() == 1


def test_a_loopback_url_is_allowed_when_the_setting_says_so(dana, developer, settings):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True

    response = _set(dana, "http://127.0.0.1:8765/hook")

    assert response.status_code == HTTPStatus.OK
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:8765/hook"


def test_a_disabled_webhook_shows_why_and_saving_its_url_turns_it_back_on(dana, developer):
    secret = _secret_in(_set(dana).content.decode())
    WebhookEndpoint.objects.update(
        is_active=False,
        disabled_at=timezone.now(),
        disabled_reason="The endpoint answered 410 Gone: it asked for no more notices.",
    )

    page = dana.get(reverse(SETTINGS)).content.decode()
    assert "Disabled" in page
    assert "The endpoint answered 410 Gone" in page
    assert "Save the URL again" in page

    response = _set(dana)

    assert response.status_code == HTTPStatus.FOUND
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.is_active
    assert endpoint.disabled_reason == ""
    assert endpoint.signing_secrets() == [secret]


def test_a_stale_sign_in_asks_for_the_password_then_shows_the_secret(sign_in, developer_user):
    client = sign_in(developer_user, reauthenticate=False)
    url = reverse("developer:webhook-set")

    asked = client.post(url, {"url": URL})

    assert asked.status_code == HTTPStatus.FOUND
    assert asked.url.startswith(reverse("account_reauthenticate"))
    assert not WebhookEndpoint.objects.exists()

    resumed = client.post(
        f"{reverse('account_reauthenticate')}?{urlencode({'next': url})}",
        {"password": factories.PASSWORD, "next": url},
    )

    assert resumed.status_code == HTTPStatus.OK
    secret = _secret_in(resumed.content.decode())
    assert WebhookEndpoint.objects.get().signing_secrets() == [secret]


def test_rotation_also_asks_for_the_password_when_it_is_stale(dana, developer, settings):
    old = _secret_in(_set(dana).content.decode())
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0

    response = dana.post(reverse("developer:webhook-rotate"), {"overlap_seconds": "0"})

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert WebhookEndpoint.objects.get().signing_secrets() == [old]


# --- The digest frequency -----------------------------------------------------------------------


def test_the_digest_frequency_is_set_and_recorded(dana, developer):
    response = dana.post(reverse("developer:digest-set"), {"digest_frequency": "daily"})

    assert response.status_code == HTTPStatus.FOUND
    developer.refresh_from_db()
    assert developer.digest_frequency == AIDeveloper.DigestFrequency.DAILY
    event = AuditEvent.objects.get(action="developer.digest_frequency")
    assert event.actor.email == "dana@example-ai.example"
    assert (event.before, event.after) == (
        {"digest_frequency": "weekly"},
        {"digest_frequency": "daily"},
    )
    page = dana.get(response.url).content.decode()
    assert "Consent digests now come daily." in page
    assert 'value="daily" required id="id_digest_frequency_0" checked' in page


def test_turning_the_digest_off(dana, developer):
    dana.post(reverse("developer:digest-set"), {"digest_frequency": "off"})

    developer.refresh_from_db()
    assert developer.digest_frequency == AIDeveloper.DigestFrequency.OFF


def test_an_unknown_frequency_is_refused_and_changes_nothing(dana, developer):
    response = dana.post(reverse("developer:digest-set"), {"digest_frequency": "hourly"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Select a valid choice" in response.content.decode()
    developer.refresh_from_db()
    assert developer.digest_frequency == AIDeveloper.DigestFrequency.WEEKLY
    assert not AuditEvent.objects.exists()


def test_saving_the_same_frequency_records_nothing(developer_user, developer):
    digest_frequency_set(actor=developer_user, developer=developer, frequency="weekly")

    assert not AuditEvent.objects.exists()


def test_only_the_organisations_people_and_registry_managers_set_the_digest(
    developer, other_developer_user, guild_staff, registry_manager
):
    for actor in (other_developer_user, guild_staff):
        with pytest.raises(PermissionDenied):
            digest_frequency_set(actor=actor, developer=developer, frequency="off")
    digest_frequency_set(actor=registry_manager, developer=developer, frequency="off")

    developer.refresh_from_db()
    assert developer.digest_frequency == AIDeveloper.DigestFrequency.OFF
    assert AuditEvent.objects.get().actor == registry_manager


def test_the_secret_is_stored_encrypted(dana, developer):
    secret = _secret_in(_set(dana).content.decode())

    endpoint = WebhookEndpoint.objects.get()
    assert decrypt(endpoint.secret_encrypted) == secret
