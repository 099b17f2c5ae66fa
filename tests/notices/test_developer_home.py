"""The developer dashboard: a developer's person sees their organisation — its notices by state,
the latest ones, its webhook, keys, digest and people — and never another's."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.models import Notice, WebhookEndpoint
from notices.services import api_key_create, api_key_revoke, notice_create
from tests import factories

HOME = "developer:home"


def _page(client) -> str:
    response = client.get(reverse(HOME))
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def _count(page: str, state: str) -> int:
    list_url = reverse("answers:developer-notice-list")
    return int(re.search(rf'href="{list_url}\?state={state}">(\d+)</a>', page).group(1))


@pytest.fixture
def dana(client, developer_user):
    client.force_login(developer_user)
    return client


# --- Access -------------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client, db):
    response = client.get(reverse(HOME))

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize(
    "persona", ["creator", "guild_staff", "registry_manager", "superuser", "charlie"]
)
def test_anyone_who_acts_for_no_developer_gets_404(request, client, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse(HOME)).status_code == HTTPStatus.NOT_FOUND


def test_the_dashboard_shows_their_organisation(dana, developer):
    page = _page(dana)

    assert "<h1>Example AI Ltd</h1>" in page
    assert "dana@example-ai.example" in page


# --- Notices ------------------------------------------------------------------------------------


def test_notices_are_counted_by_state_and_only_their_organisations(
    dana, developer, other_developer, make_notice
):
    make_notice()
    make_notice()
    make_notice(answer_due_at=timezone.now() + timedelta(days=3))  # not due yet
    overdue = make_notice(answer_due_at=timezone.now() - timedelta(hours=1))
    answered = make_notice(answer_due_at=timezone.now() - timedelta(hours=1))
    Notice.objects.filter(pk=answered.pk).update(answered_at=timezone.now())
    make_notice(kind=Notice.Kind.REMINDER, reminds=overdue, key="reminder:1")  # not counted
    make_notice(answerable=False, key="digest:1")  # asks for no answer: not awaiting one
    for n in range(4):  # another organisation's notices are never counted
        notice_create(
            developer=other_developer,
            topic=f"other:{n}",
            key=f"other:{n}",
            subject=f"Secret matter {n}",
            text="For Other Models Inc only.",
        )

    page = _page(dana)

    assert (_count(page, "open"), _count(page, "overdue"), _count(page, "answered")) == (3, 1, 1)
    recent = page.split('id="notices-heading"')[1]
    assert recent.count(">Overdue</span>") == 1
    assert recent.count(">Answered</span>") == 1
    assert recent.count(">For information</span>") == 1
    assert "Secret matter" not in page


def test_the_five_latest_notices_link_to_their_pages(dana, make_notice):
    notices = [make_notice(subject=f"Stop using work {n}") for n in range(7)]

    page = _page(dana)

    for notice in notices[-5:]:
        assert reverse("answers:developer-notice", args=[notice.pk]) in page
        assert notice.subject in page
    for notice in notices[:2]:
        assert f">{notice.subject}<" not in page


def test_another_organisations_person_never_sees_these_notices(
    client, other_developer_user, make_notice
):
    notice = make_notice(subject="Remove the novel from your dataset")
    client.force_login(other_developer_user)

    page = _page(client)

    assert "Other Models Inc" in page
    assert "Remove the novel" not in page
    assert reverse("answers:developer-notice", args=[notice.pk]) not in page
    assert "Example AI Ltd" not in page
    assert _count(page, "open") == 0


@pytest.mark.parametrize("count", [1, 50])
def test_the_dashboard_costs_the_same_whatever_the_number_of_notices(
    dana, developer, developer_user, make_notice, count, django_assert_max_num_queries
):
    for _ in range(count):
        make_notice()
    api_key_create(actor=developer_user, developer=developer, name="ingest")
    factories.DeveloperMemberFactory(developer=developer)

    # 10: the "Needs you" panel's one query (issue 20) came after the bound of 9.
    with django_assert_max_num_queries(10):
        page = _page(dana)

    assert _count(page, "open") == count


# --- Webhook, keys, digest, people --------------------------------------------------------------


def test_a_disabled_webhook_shows_why(dana, developer):
    WebhookEndpoint.objects.create(
        developer=developer,
        url="https://hooks.example-ai.example/portal",
        secret_encrypted="x",
        is_active=False,
        disabled_at=timezone.now(),
        disabled_reason="The endpoint answered 410 Gone.",
    )

    page = _page(dana)

    assert "https://hooks.example-ai.example/portal" in page
    assert "Disabled" in page
    assert "The endpoint answered 410 Gone." in page


def test_without_a_webhook_notices_come_by_email(dana):
    assert "notices come by email only" in _page(dana)


def test_active_keys_and_the_digest_frequency_are_shown(dana, developer, developer_user):
    api_key_create(actor=developer_user, developer=developer, name="ingest")
    revoked, _ = api_key_create(actor=developer_user, developer=developer, name="old")
    api_key_revoke(actor=developer_user, key=revoked)
    developer.digest_frequency = "daily"
    developer.save()

    page = _page(dana)

    assert f'href="{reverse("apikeys:developer-keys")}">1 active key</a>' in page
    assert "Daily</a>" in page
    assert reverse("developer:settings") in page


def test_the_people_of_the_organisation_are_listed(dana, developer, other_developer_user):
    factories.DeveloperMemberFactory(developer=developer, user__email="sam@example-ai.example")

    page = _page(dana)

    assert "sam@example-ai.example" in page
    assert "dana@example-ai.example" in page
    assert "oscar@other-models.example" not in page


# --- Landing and navigation ---------------------------------------------------------------------


def test_the_dashboard_sends_a_member_to_their_organisation(dana):
    response = dana.get(reverse("portal:dashboard"))

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse(HOME)


def test_signing_in_lands_a_member_on_the_developer_dashboard(client, developer_user):
    response = client.post(
        reverse("account_login"),
        {"login": "dana@example-ai.example", "password": factories.PASSWORD},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse(HOME)
    assert "<h1>Example AI Ltd</h1>" in response.content.decode()


def test_a_member_sees_the_developer_links_instead_of_the_creator_links(dana):
    header = _page(dana).split("</header>")[0]

    assert "Developer dashboard" in header
    assert reverse("developer:settings") in header
    assert "My works" not in header
    assert "AI choices" not in header


def test_a_creator_sees_no_developer_link(client, creator):
    client.force_login(creator)

    response = client.get(reverse("portal:dashboard"))

    header = response.content.decode().split("</header>")[0]
    assert response.status_code == HTTPStatus.OK
    assert "My works" in header
    assert "Developer dashboard" not in header
