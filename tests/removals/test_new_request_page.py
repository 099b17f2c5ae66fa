"""`GET /requests/new/` is a page, not a blank 405 (issue 19): it says what a removal request is,
starts a draft with one button, and offers the creator's drafts to carry on. Anonymous visitors
are sent to sign in; the people of an AI developer file no removal requests (403). In Chromium:
tests/e2e/test_new_request_browser.py."""

import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from removals.models import RemovalRequest
from removals.services import draft_create
from tests import factories

NEW = "/requests/new/"


@pytest.fixture
def developer_person(db):
    return factories.DeveloperMemberFactory(user__email="dana@example-ai.example").user


def test_the_address_is_the_one_the_buttons_post_to():
    assert reverse("removals:create") == NEW


@pytest.mark.parametrize("who", ["creator", "guild_staff", "charlie"])
def test_a_signed_in_person_gets_a_page_that_starts_a_draft(client, who, request):
    client.force_login(request.getfixturevalue(who))

    response = client.get(NEW)

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "<h1>New removal request</h1>" in page
    assert re.search(rf'<form method="post" action="{NEW}">', page)
    assert "Start a new draft" in page
    assert not RemovalRequest.objects.exists()  # looking starts nothing


def test_the_page_offers_the_creators_own_drafts_to_carry_on(client, creator, other_creator):
    mine = draft_create(actor=creator, creator=creator, title="Poems in chatbots")
    draft_create(actor=other_creator, creator=other_creator, title="Not yours")
    client.force_login(creator)

    page = client.get(NEW).content.decode()

    assert "Or carry on a draft" in page
    assert f'href="{reverse("removals:edit", args=[mine.pk])}"' in page
    assert "Poems in chatbots" in page and "Not yours" not in page


def test_the_button_starts_a_draft(client, creator):
    client.force_login(creator)

    response = client.post(NEW)

    removal = RemovalRequest.objects.get(creator=creator)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("removals:edit", args=[removal.pk])


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(NEW)

    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("account_login"))


def test_an_ai_developers_person_is_refused_and_nothing_is_started(client, developer_person):
    client.force_login(developer_person)

    assert client.get(NEW).status_code == HTTPStatus.FORBIDDEN
    assert client.post(NEW).status_code == HTTPStatus.FORBIDDEN
    assert not RemovalRequest.objects.exists()


def test_other_methods_are_still_refused(client, creator):
    client.force_login(creator)

    assert client.put(NEW).status_code == HTTPStatus.METHOD_NOT_ALLOWED
