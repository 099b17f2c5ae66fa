"""One removal request, one topic (``removal:<id>``), one notice per developer: each developer
sees and answers only its own. Another developer's notice on the same topic is a 404 on the
developer dashboard, for its files, and through the API — and nothing is recorded."""

import json
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from notices.models import Notice, NoticeAnswer, NoticeAttachment
from notices.services import api_key_create
from removals import services
from tests import factories
from tests.storage import download


@pytest.fixture
def notices(make_request, guild_staff, developer, other_developer):
    """The request approved: ``(mine, theirs)`` — Example AI's and Other Models' notices."""
    removal = make_request()
    services.request_approve(actor=guild_staff, request=removal)
    by_developer = {
        n.developer_id: n for n in Notice.objects.filter(topic=removal.topic, kind="notice")
    }
    mine, theirs = by_developer[developer.pk], by_developer[other_developer.pk]
    assert mine.topic == theirs.topic == removal.topic
    return mine, theirs


@pytest.fixture
def dana(developer):
    """Dana acts for Example AI Ltd."""
    return factories.DeveloperMemberFactory(
        developer=developer, user__email="dana@example-ai.example"
    ).user


@pytest.fixture
def dana_api(dana, developer):
    """Example AI's systems, with one of its API keys."""
    _, clear = api_key_create(actor=dana, developer=developer, name="pipeline")
    return Client(HTTP_AUTHORIZATION=f"Bearer {clear}")


def _nothing_recorded(notice):
    notice.refresh_from_db()
    assert not NoticeAnswer.objects.filter(notice=notice).exists()
    assert notice.answered_at is None


def test_on_the_dashboard_they_see_their_organisations_notice_only(client, dana, notices):
    mine, theirs = notices
    client.force_login(dana)

    listing = client.get(reverse("answers:developer-notice-list")).content.decode()
    assert reverse("answers:developer-notice", args=[mine.pk]) in listing
    assert reverse("answers:developer-notice", args=[theirs.pk]) not in listing
    assert client.get(reverse("answers:developer-notice", args=[mine.pk])).status_code == 200

    page = reverse("answers:developer-notice", args=[theirs.pk])
    assert client.get(page).status_code == HTTPStatus.NOT_FOUND
    response = client.post(
        page, {"answer": "disputed", "disputed-statement": "Not ours to answer."}
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    _nothing_recorded(theirs)


def test_they_cannot_download_the_other_developers_notice_files(client, dana, notices):
    mine, theirs = notices
    client.force_login(dana)
    their_file = NoticeAttachment.objects.filter(notice=theirs).first()
    my_file = NoticeAttachment.objects.filter(notice=mine).first()

    url = reverse("answers:notice-file", args=[theirs.pk, their_file.pk])
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    # Nor through their own notice's address with their file's id.
    url = reverse("answers:notice-file", args=[mine.pk, their_file.pk])
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    url = reverse("answers:notice-file", args=[mine.pk, my_file.pk])
    assert download(client, url).status == HTTPStatus.OK


def test_through_the_api_the_other_developers_notice_does_not_exist(dana_api, notices):
    mine, theirs = notices

    results = dana_api.get(reverse("notices-api:notice-list")).json()["results"]
    assert [r["id"] for r in results] == [mine.pk]
    assert dana_api.get(reverse("notices-api:notice-detail", args=[mine.pk])).status_code == 200

    for url in (
        reverse("notices-api:notice-detail", args=[theirs.pk]),
        reverse("notices-api:notice-answers", args=[theirs.pk]),
    ):
        response = dana_api.get(url)
        assert response.status_code == HTTPStatus.NOT_FOUND, url
        assert response.json()["error"]["code"] == "not_found"
    posted = dana_api.post(
        reverse("notices-api:notice-answers", args=[theirs.pk]),
        json.dumps({"answer": "complied", "statement": "Removed."}),
        content_type="application/json",
    )
    assert posted.status_code == HTTPStatus.NOT_FOUND
    _nothing_recorded(theirs)


def test_answering_their_own_notice_leaves_the_other_one_open(client, dana, notices):
    mine, theirs = notices
    client.force_login(dana)

    response = client.post(
        reverse("answers:developer-notice", args=[mine.pk]),
        {"answer": "complied", "complied-statement": "Removed from our corpus."},
    )

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    assert NoticeAnswer.objects.get(notice=mine).kind == "complied"
    _nothing_recorded(theirs)
