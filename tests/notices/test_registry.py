"""Who may read and edit the AI-developer registry, and what an edit records."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from notices.models import AIDeveloper
from tests import factories

NEW_DEVELOPER = {
    "name": "Frontier Models plc",
    "slug": "frontier-models",
    "website": "https://frontier.example",
    "crawler_user_agents": "FrontierBot\n  FrontierBot \n\nFrontier-Extended",
    "is_active": "on",
}


def _developer_form(developer, **changes):
    data = {
        "name": developer.name,
        "slug": developer.slug,
        "website": developer.website,
        "crawler_user_agents": developer.crawler_user_agents,
    }
    if developer.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- Reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["guild_staff", "registry_manager", "superuser"])
def test_readers_see_the_list_and_the_detail(request, client, persona, developer):
    factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")
    client.force_login(request.getfixturevalue(persona))

    listing = client.get(reverse("notices:developer-list"))
    detail = client.get(reverse("notices:developer-detail", args=[developer.slug]))

    assert listing.status_code == HTTPStatus.OK
    assert "Example AI Ltd" in listing.content.decode()
    assert detail.status_code == HTTPStatus.OK
    assert "legal@example-ai.example" in detail.content.decode()
    assert "ExampleBot-Image" in detail.content.decode()


@pytest.mark.parametrize("persona", ["creator", "charlie"])
def test_people_without_a_role_get_403_for_the_registry(request, client, persona, developer):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("notices:developer-list")).status_code == HTTPStatus.FORBIDDEN
    detail = client.get(reverse("notices:developer-detail", args=[developer.slug]))
    assert detail.status_code == HTTPStatus.FORBIDDEN


def test_anonymous_visitor_is_sent_to_sign_in(client, developer):
    for url in [
        reverse("notices:developer-list"),
        reverse("notices:developer-detail", args=[developer.slug]),
        reverse("notices:developer-create"),
        reverse("notices:developer-edit", args=[developer.slug]),
        reverse("notices:contact-add", args=[developer.slug]),
    ]:
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND, url
        assert response.url.startswith(reverse("account_login")), url


def test_list_counts_confirmed_and_pending_contacts(client, guild_staff, developer):
    factories.DeveloperContactFactory(developer=developer)
    factories.DeveloperContactFactory(developer=developer)
    factories.DeveloperContactFactory(developer=developer, confirmed_at=None)
    client.force_login(guild_staff)

    page = client.get(reverse("notices:developer-list")).content.decode()

    assert "2 confirmed" in page
    assert "1 awaiting confirmation" in page


def test_guild_staff_get_403_for_every_change(client, guild_staff, developer):
    contact = factories.DeveloperContactFactory(developer=developer, confirmed_at=None)
    client.force_login(guild_staff)
    gets = [
        reverse("notices:developer-create"),
        reverse("notices:developer-edit", args=[developer.slug]),
        reverse("notices:contact-add", args=[developer.slug]),
    ]
    posts = {
        reverse("notices:developer-create"): NEW_DEVELOPER,
        reverse("notices:developer-edit", args=[developer.slug]): _developer_form(
            developer, name="Hijacked"
        ),
        reverse("notices:contact-add", args=[developer.slug]): {"email": "evil@example.net"},
        reverse("notices:contact-resend", args=[developer.slug, contact.pk]): {},
        reverse("notices:contact-remove", args=[developer.slug, contact.pk]): {},
    }

    for url in gets:
        assert client.get(url).status_code == HTTPStatus.FORBIDDEN, url
    for url, data in posts.items():
        assert client.post(url, data).status_code == HTTPStatus.FORBIDDEN, url

    developer.refresh_from_db()
    contact.refresh_from_db()
    assert developer.name == "Example AI Ltd"
    assert developer.contacts.count() == 1
    assert contact.removed_at is None
    assert not AuditEvent.objects.exists()


def test_list_page_queries_do_not_grow_with_developers(
    client, guild_staff, django_assert_max_num_queries
):
    def make(n):
        for _ in range(n):
            developer = factories.AIDeveloperFactory()
            factories.DeveloperContactFactory(developer=developer)
            factories.DeveloperContactFactory(developer=developer, confirmed_at=None)

    client.force_login(guild_staff)
    make(3)
    with django_assert_max_num_queries(6):
        assert client.get(reverse("notices:developer-list")).status_code == HTTPStatus.OK
    make(27)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("notices:developer-list"))
    assert response.content.decode().count("1 awaiting confirmation") == 30


def test_detail_page_queries_do_not_grow_with_contacts(
    client, manager_client, developer, django_assert_max_num_queries
):
    def make(n):
        for _ in range(n):
            contact = factories.DeveloperContactFactory(developer=developer, confirmed_at=None)
            url = reverse("notices:contact-remove", args=[developer.slug, contact.pk])
            manager_client.post(url)

    make(3)
    url = reverse("notices:developer-detail", args=[developer.slug])
    # 9: the page also lists the organisation's people and open invitations (2) and the header
    # asks whether the reader acts for a developer (1) — none of them grows with the contacts.
    with django_assert_max_num_queries(9):
        assert manager_client.get(url).status_code == HTTPStatus.OK
    make(27)
    with django_assert_max_num_queries(9):
        response = manager_client.get(url)
    assert response.content.decode().count("Removed a notice contact") == 30


# --- Creating and editing ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["registry_manager", "superuser"])
def test_managers_create_a_developer_and_it_is_recorded(request, sign_in, persona):
    user = request.getfixturevalue(persona)
    client = sign_in(user)

    response = client.post(reverse("notices:developer-create"), NEW_DEVELOPER)

    developer = AIDeveloper.objects.get(slug="frontier-models")
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == developer.get_absolute_url()
    assert developer.user_agent_list == ["FrontierBot", "Frontier-Extended"]
    event = AuditEvent.objects.get(object_type="notices.aideveloper", object_id=str(developer.pk))
    assert event.action == "developer.create"
    assert event.actor == user
    assert event.before is None
    assert event.after["name"] == "Frontier Models plc"
    assert event.after["crawler_user_agents"] == "FrontierBot\nFrontier-Extended"


@pytest.mark.parametrize("persona", ["registry_manager", "superuser"])
def test_managers_edit_a_developer_with_before_and_after(request, sign_in, persona, developer):
    user = request.getfixturevalue(persona)
    client = sign_in(user)
    url = reverse("notices:developer-edit", args=[developer.slug])

    assert client.get(url).status_code == HTTPStatus.OK
    response = client.post(url, _developer_form(developer, name="Example AI Group", is_active=None))

    assert response.status_code == HTTPStatus.FOUND
    developer.refresh_from_db()
    assert developer.name == "Example AI Group"
    assert developer.is_active is False
    event = AuditEvent.objects.get(action="developer.update")
    assert event.actor == user
    assert event.actor_label == user.email
    assert event.before["name"] == "Example AI Ltd"
    assert event.before["is_active"] is True
    assert event.after["name"] == "Example AI Group"
    assert event.after["is_active"] is False
    history = client.get(url).content.decode()
    assert "Edited the developer" in history
    assert "Example AI Ltd" in history  # the before value is shown


def test_saving_without_a_change_records_nothing(manager_client, developer):
    url = reverse("notices:developer-edit", args=[developer.slug])

    response = manager_client.post(url, _developer_form(developer))

    assert response.status_code == HTTPStatus.FOUND
    assert not AuditEvent.objects.exists()


def test_empty_name_is_refused_and_changes_nothing(manager_client, developer):
    url = reverse("notices:developer-edit", args=[developer.slug])

    response = manager_client.post(url, _developer_form(developer, name=""))

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["name"]
    developer.refresh_from_db()
    assert developer.name == "Example AI Ltd"
    assert not AuditEvent.objects.exists()


def test_duplicate_slug_is_refused_and_changes_nothing(manager_client, developer):
    response = manager_client.post(
        reverse("notices:developer-create"), {**NEW_DEVELOPER, "slug": developer.slug}
    )

    assert response.status_code == HTTPStatus.OK
    assert "slug" in response.context["form"].errors
    assert AIDeveloper.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_name_differing_only_in_case_is_refused(manager_client, developer):
    response = manager_client.post(
        reverse("notices:developer-create"), {**NEW_DEVELOPER, "name": "EXAMPLE AI LTD"}
    )

    assert response.status_code == HTTPStatus.OK
    assert "name" in response.context["form"].errors
    assert AIDeveloper.objects.count() == 1


@pytest.mark.parametrize("slug", ["new", "confirm"])
def test_slugs_the_registry_uses_are_refused(manager_client, slug):
    response = manager_client.post(
        reverse("notices:developer-create"), {**NEW_DEVELOPER, "slug": slug}
    )

    assert response.status_code == HTTPStatus.OK
    assert "slug" in response.context["form"].errors
    assert not AIDeveloper.objects.exists()


def test_javascript_website_is_refused(manager_client):
    response = manager_client.post(
        reverse("notices:developer-create"), {**NEW_DEVELOPER, "website": "javascript:alert(1)"}
    )

    assert response.status_code == HTTPStatus.OK
    assert "website" in response.context["form"].errors
    assert not AIDeveloper.objects.exists()


def test_html_in_the_name_is_shown_as_text(manager_client, guild_staff, client):
    payload = '<script>alert("x")</script><b>Bold AI</b>'
    manager_client.post(reverse("notices:developer-create"), {**NEW_DEVELOPER, "name": payload})
    developer = AIDeveloper.objects.get()
    client.force_login(guild_staff)

    for url in [reverse("notices:developer-list"), developer.get_absolute_url()]:
        page = client.get(url).content.decode()
        assert "<script>alert" not in page
        assert "<b>Bold AI</b>" not in page
        assert "&lt;b&gt;Bold AI&lt;/b&gt;" in page


def test_edit_of_a_missing_developer_is_404(manager_client):
    url = reverse("notices:developer-edit", args=["no-such-developer"])
    assert manager_client.get(url).status_code == HTTPStatus.NOT_FOUND
