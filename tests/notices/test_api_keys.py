"""API keys: an organisation's people create them (after entering their password again), see
each one once, and revoke them; only a SHA-256 is stored. Registry managers see and revoke any
organisation's keys, never the keys themselves."""

import hashlib
import re
import urllib.error
import urllib.request
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from notices.models import APIKey
from notices.services import api_key_create
from notices.services.apikeys import MAX_ACTIVE_KEYS
from tests import factories
from tests.e2e import conftest as e2e

# The browser test's fixtures (one Chromium per module, a phone-sized page, axe-core, sign-in).
browser, page, audit = e2e.browser, e2e.page, e2e.audit

KEY_PATTERN = re.compile(r"ccp_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}")
KEYS_URL = reverse("apikeys:developer-keys")


def _shown_key(response) -> str:
    found = set(KEY_PATTERN.findall(response.content.decode()))
    assert len(found) == 1, "the new key should be on the page, and only it"
    return found.pop()


def _api_get(key: str):
    """A call to the API with ``key`` from a client without any cookie."""
    return Client().get(reverse("notices-api:notice-list"), HTTP_AUTHORIZATION=f"Bearer {key}")


# --- Creating a key -------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_stored_only_as_its_hash(sign_in, developer_user):
    client = sign_in(developer_user)

    response = client.post(KEYS_URL, {"name": "Ingest pipeline"})

    assert response.status_code == HTTPStatus.OK  # rendered, not redirected
    assert "no-store" in response["Cache-Control"]
    clear = _shown_key(response)
    assert f"Authorization: Bearer {clear}" in response.content.decode()
    assert "shown this once" in response.content.decode()

    key = APIKey.objects.get()
    assert key.name == "Ingest pipeline"
    assert key.created_by == developer_user
    assert key.hashed == hashlib.sha256(clear.encode()).hexdigest()
    secret = clear.split("_", 2)[2]
    stored = [str(getattr(key, field.attname)) for field in APIKey._meta.concrete_fields]
    assert not any(clear in value or secret in value for value in stored)
    assert AuditEvent.objects.filter(action="apikey.create", actor=developer_user).exists()

    again = client.get(KEYS_URL)

    assert again.status_code == HTTPStatus.OK
    page = again.content.decode()
    assert clear not in page and secret not in page
    assert f"ccp_{key.prefix}_…" in page
    assert "Ingest pipeline" in page


def test_the_shown_key_calls_the_api_and_its_last_use_is_shown(sign_in, developer_user):
    client = sign_in(developer_user)
    clear = _shown_key(client.post(KEYS_URL, {"name": "Ingest pipeline"}))
    assert APIKey.objects.get().last_used_at is None

    assert _api_get(clear).status_code == HTTPStatus.OK

    key = APIKey.objects.get()
    assert key.last_used_at is not None
    row = re.search(
        r"<tr>\s*<th scope=\"row\">Ingest pipeline</th>.*?</tr>",
        client.get(KEYS_URL).content.decode(),
        re.S,
    ).group(0)
    assert "Never" not in row
    assert "Active" in row


def test_creating_a_key_asks_for_the_password_again_then_shows_the_key(sign_in, developer_user):
    client = sign_in(developer_user, reauthenticate=False)

    assert client.get(KEYS_URL).status_code == HTTPStatus.OK  # the page itself is shown
    asked = client.post(KEYS_URL, {"name": "Ingest pipeline"})

    assert asked.status_code == HTTPStatus.FOUND
    assert asked.url.startswith(reverse("account_reauthenticate"))
    assert not APIKey.objects.exists()

    resumed = client.post(
        f"{reverse('account_reauthenticate')}?{urlencode({'next': KEYS_URL})}",
        {"password": factories.PASSWORD, "next": KEYS_URL},
    )

    assert resumed.status_code == HTTPStatus.OK
    assert "no-store" in resumed["Cache-Control"]
    clear = _shown_key(resumed)
    assert APIKey.objects.get().hashed == hashlib.sha256(clear.encode()).hexdigest()


@pytest.mark.parametrize("name", ["", "   "])
def test_a_key_without_a_name_is_refused_and_nothing_is_written(sign_in, developer_user, name):
    response = sign_in(developer_user).post(KEYS_URL, {"name": name})

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert 'aria-invalid="true"' in page
    assert "This field is required." in page
    assert not KEY_PATTERN.search(page)
    assert not APIKey.objects.exists()
    assert not AuditEvent.objects.filter(action="apikey.create").exists()


def test_a_key_over_the_limit_is_refused(sign_in, developer_user, developer):
    for n in range(MAX_ACTIVE_KEYS):
        api_key_create(actor=developer_user, developer=developer, name=f"key {n}")

    response = sign_in(developer_user).post(KEYS_URL, {"name": "One too many"})

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert f"at most {MAX_ACTIVE_KEYS} active keys" in page
    assert not KEY_PATTERN.search(page)
    assert APIKey.objects.count() == MAX_ACTIVE_KEYS
    assert not APIKey.objects.filter(name="One too many").exists()


# --- Revoking a key -------------------------------------------------------------------------------


def test_revoking_a_key_refuses_the_next_call_at_once(sign_in, developer_user, developer):
    key, clear = api_key_create(actor=developer_user, developer=developer, name="Old pipeline")
    assert _api_get(clear).status_code == HTTPStatus.OK
    client = sign_in(developer_user)
    url = reverse("apikeys:developer-key-revoke", args=[key.pk])

    confirm = client.get(url)
    assert confirm.status_code == HTTPStatus.OK
    assert "Revoke the key “Old pipeline”" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None  # asking changes nothing

    response = client.post(url, follow=True)

    assert response.redirect_chain[-1][0] == KEYS_URL
    assert "is revoked" in response.content.decode()
    assert "Revoked" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == developer_user
    refused = _api_get(clear)
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json()["error"]["code"] == "invalid_key"


def test_a_developer_cannot_revoke_another_organisations_key(
    sign_in, developer_user, other_developer_user, other_developer
):
    key, clear = api_key_create(
        actor=other_developer_user, developer=other_developer, name="Their pipeline"
    )
    client = sign_in(developer_user)
    url = reverse("apikeys:developer-key-revoke", args=[key.pk])

    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert client.post(url).status_code == HTTPStatus.NOT_FOUND

    key.refresh_from_db()
    assert key.revoked_at is None
    assert _api_get(clear).status_code == HTTPStatus.OK


# --- Who sees the organisation's page -------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, developer_user, developer):
    key, _ = api_key_create(actor=developer_user, developer=developer, name="Pipeline")
    for url in (KEYS_URL, reverse("apikeys:developer-key-revoke", args=[key.pk])):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response.url.startswith(reverse("account_login"))
    assert client.post(KEYS_URL, {"name": "x"}).status_code == HTTPStatus.FOUND
    assert APIKey.objects.count() == 1


@pytest.mark.parametrize("persona", ["creator", "guild_staff", "charlie", "registry_manager"])
def test_people_who_act_for_no_organisation_get_404(request, sign_in, persona):
    client = sign_in(request.getfixturevalue(persona))

    assert client.get(KEYS_URL).status_code == HTTPStatus.NOT_FOUND
    assert client.post(KEYS_URL, {"name": "x"}).status_code == HTTPStatus.NOT_FOUND
    assert not APIKey.objects.exists()


def test_a_developer_sees_only_their_own_organisations_keys(
    sign_in, developer_user, developer, other_developer_user, other_developer
):
    api_key_create(actor=developer_user, developer=developer, name="Example pipeline")
    api_key_create(actor=other_developer_user, developer=other_developer, name="Other crawler")

    page = sign_in(other_developer_user).get(KEYS_URL).content.decode()

    assert "Other crawler" in page
    assert "Example pipeline" not in page
    assert "API keys of Other Models Inc" in page


def test_the_keys_page_makes_the_same_queries_however_many_keys(
    sign_in, developer_user, developer, django_assert_max_num_queries
):
    client = sign_in(developer_user)
    api_key_create(actor=developer_user, developer=developer, name="first")
    client.get(KEYS_URL)
    with django_assert_max_num_queries(8) as few:
        client.get(KEYS_URL)
    for n in range(15):
        key, _ = api_key_create(actor=developer_user, developer=developer, name=f"key {n}")
        if n % 2:
            APIKey.objects.filter(pk=key.pk).update(
                revoked_at=timezone.now(), revoked_by=developer_user
            )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(KEYS_URL)
    assert response.content.decode().count('<th scope="row">') == 16


# --- The registry managers' page ------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, status",
    [
        ("registry_manager", HTTPStatus.OK),
        ("superuser", HTTPStatus.OK),
        ("guild_staff", HTTPStatus.FORBIDDEN),
        ("creator", HTTPStatus.FORBIDDEN),
        ("developer_user", HTTPStatus.FORBIDDEN),
        ("charlie", HTTPStatus.FORBIDDEN),
    ],
)
def test_who_sees_an_organisations_keys_on_the_staff_page(
    request, sign_in, developer_user, developer, persona, status
):
    key, clear = api_key_create(actor=developer_user, developer=developer, name="Ingest pipeline")
    url = reverse("apikeys:staff-keys", args=[developer.slug])

    response = sign_in(request.getfixturevalue(persona)).get(url)

    assert response.status_code == status
    if status == HTTPStatus.OK:
        page = response.content.decode()
        assert "Ingest pipeline" in page
        assert f"ccp_{key.prefix}_…" in page
        assert clear not in page


def test_anonymous_visitors_are_sent_to_sign_in_from_the_staff_page(client, developer):
    response = client.get(reverse("apikeys:staff-keys", args=[developer.slug]))

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("account_login"))


def test_an_unknown_organisation_is_404_on_the_staff_page(manager_client):
    url = reverse("apikeys:staff-keys", args=["no-such-developer"])
    assert manager_client.get(url).status_code == HTTPStatus.NOT_FOUND


def test_a_registry_manager_revokes_any_key_and_it_is_audited(
    manager_client, registry_manager, developer_user, developer
):
    key, clear = api_key_create(actor=developer_user, developer=developer, name="Leaked key")
    url = reverse("apikeys:staff-key-revoke", args=[developer.slug, key.pk])

    assert "Revoke the key “Leaked key”" in manager_client.get(url).content.decode()
    response = manager_client.post(url, follow=True)

    assert response.redirect_chain[-1][0] == reverse("apikeys:staff-keys", args=[developer.slug])
    assert "by registry@example.org" in response.content.decode()  # revoked by whom
    key.refresh_from_db()
    assert key.revoked_by == registry_manager
    event = AuditEvent.objects.get(action="apikey.revoke")
    assert event.actor == registry_manager
    assert event.after == {"prefix": key.prefix, "state": "revoked"}
    assert _api_get(clear).status_code == HTTPStatus.UNAUTHORIZED


def test_a_key_is_revoked_only_under_its_own_organisation(
    manager_client, developer_user, developer, other_developer
):
    key, clear = api_key_create(actor=developer_user, developer=developer, name="Pipeline")
    url = reverse("apikeys:staff-key-revoke", args=[other_developer.slug, key.pk])

    assert manager_client.post(url).status_code == HTTPStatus.NOT_FOUND
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.parametrize("persona", ["guild_staff", "developer_user"])
def test_others_cannot_revoke_from_the_staff_page(
    request, sign_in, developer_user, developer, persona
):
    key, clear = api_key_create(actor=developer_user, developer=developer, name="Pipeline")
    url = reverse("apikeys:staff-key-revoke", args=[developer.slug, key.pk])

    assert sign_in(request.getfixturevalue(persona)).post(url).status_code == HTTPStatus.FORBIDDEN

    key.refresh_from_db()
    assert key.revoked_at is None
    assert _api_get(clear).status_code == HTTPStatus.OK


# --- In a real browser ----------------------------------------------------------------------------


def _call_api(live_server, key: str) -> int:
    request = urllib.request.Request(
        live_server.url + reverse("notices-api:notice-list"),
        headers={"Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.browser
def test_a_developer_creates_a_key_uses_it_and_revokes_it_in_a_browser(
    live_server, page, audit, developer_user
):
    # Signed in through the real form, which sends the person on to the keys page.
    page.goto(f"{live_server.url}{reverse('account_login')}?{urlencode({'next': KEYS_URL})}")
    page.get_by_label(re.compile("^email", re.I)).fill(developer_user.email)
    page.get_by_label(re.compile("^password", re.I)).fill(factories.PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url(re.compile("/developer/keys/$"))
    assert page.get_by_text("No API key yet.").is_visible()
    audit(page)

    page.get_by_role("button", name="Create the key").click()  # without a name
    page.wait_for_load_state()
    if "reauthenticate" in page.url:  # the password is asked for before anything is written
        page.get_by_label(re.compile("^password", re.I)).fill(factories.PASSWORD)
        page.get_by_role("button", name=re.compile("confirm", re.I)).click()
        page.wait_for_load_state()
    assert page.get_by_text("This field is required.").is_visible()
    audit(page)
    assert not APIKey.objects.exists()

    page.get_by_label("Name of the key").fill("Ingest pipeline")
    page.get_by_role("button", name="Create the key").click()
    page.wait_for_load_state()
    shown = page.get_by_role("heading", name="Your new key “Ingest pipeline”")
    assert shown.is_visible()
    audit(page)
    clear = KEY_PATTERN.search(page.locator("#new-key").inner_text()).group(0)
    assert _call_api(live_server, clear) == HTTPStatus.OK

    page.goto(live_server.url + KEYS_URL)  # the key is never shown again
    assert clear not in page.content()
    page.get_by_role("link", name="Revoke the key Ingest pipeline").click()
    page.wait_for_url(re.compile(r"/revoke/$"))
    audit(page)
    page.get_by_role("button", name="Revoke the key “Ingest pipeline”").click()
    page.wait_for_url(re.compile(r"/developer/keys/$"))
    assert page.get_by_text("is revoked").is_visible()
    audit(page)
    assert _call_api(live_server, clear) == HTTPStatus.UNAUTHORIZED
