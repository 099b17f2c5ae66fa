"""The developer dashboard's notices: their organisation's only, filtered by state, paginated in a
constant number of queries, and answered from the notice's page."""

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notices.models import Delivery, Notice, NoticeAnswer
from notices.services import answer_record
from notices.services.outbox import notice_create
from tests import factories
from tests.storage import followed

LIST = reverse("answers:developer-notice-list")


def _detail(notice) -> str:
    return reverse("answers:developer-notice", args=[notice.pk])


@pytest.fixture
def dana(client, developer_user):
    client.force_login(developer_user)
    return client


@pytest.fixture
def notice(make_notice):
    return make_notice(
        subject="Removal of “Pier at dusk”",
        text="Please remove Pier at dusk.",
        answer_due_at=timezone.now() + timedelta(days=14),
        attachments=[("works.json", json.dumps({"works": [7]}), "application/json")],
    )


@pytest.fixture
def others_notice(other_developer):
    factories.DeveloperContactFactory(developer=other_developer, email="legal@other.example")
    return notice_create(
        developer=other_developer,
        topic="test:other",
        key="test:other:1",
        subject="Removal for Other Models",
        text="Not for Example AI.",
    )


def _reminder(notice, offset=86400) -> Notice:
    from notices.deadlines import reminder_create

    return reminder_create(notice, offset)


# --- Who sees what -------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, notice):
    for url in (LIST, _detail(notice)):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    "persona", ["creator", "guild_staff", "charlie", "registry_manager", "other_developer_user"]
)
def test_people_who_do_not_act_for_the_developer_get_404(client, request, notice, persona):
    client.force_login(request.getfixturevalue(persona))

    if persona != "other_developer_user":
        assert client.get(LIST).status_code == HTTPStatus.NOT_FOUND
    assert client.get(_detail(notice)).status_code == HTTPStatus.NOT_FOUND
    response = client.post(_detail(notice), {"answer": "acknowledged"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not NoticeAnswer.objects.exists()


def test_the_list_shows_their_organisations_notices_only(dana, notice, others_notice):
    page = dana.get(LIST).content.decode()

    assert "Removal of “Pier at dusk”" in page
    assert "Removal for Other Models" not in page
    assert dana.get(_detail(others_notice)).status_code == HTTPStatus.NOT_FOUND


def test_the_notices_files_are_for_its_organisation_and_registry_managers(
    client, notice, developer_user, other_developer_user, registry_manager, creator
):
    file = notice.attachments.get()
    url = reverse("answers:notice-file", args=[notice.pk, file.pk])
    for user in (developer_user, registry_manager):
        client.force_login(user)
        got = followed(client.get(url))
        assert got.disposition.startswith("attachment")
        assert json.loads(got.body) == {"works": [7]}
    for user in (other_developer_user, creator):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == HTTPStatus.NOT_FOUND, user
        assert "Location" not in response


# --- The list --------------------------------------------------------------------------------


def test_states_filter_the_list_and_reminders_are_counted_not_listed(dana, make_notice, notice):
    overdue = make_notice(subject="Overdue one", answer_due_at=timezone.now() - timedelta(days=1))
    answered = make_notice(subject="Answered one", answer_due_at=timezone.now() + timedelta(days=3))
    answer_record(notice=answered, kind="disputed", statement="Not ours.", via="link")
    digest = make_notice(subject="Weekly consent digest", answerable=False)
    _reminder(notice, 604800)
    _reminder(notice, 86400)

    def rows(state):
        page = dana.get(LIST, {"state": state} if state else {}).content.decode()
        return {n.subject for n in (notice, overdue, answered, digest) if n.subject in page}, page

    everything, page = rows(None)
    assert everything == {notice.subject, overdue.subject, answered.subject, digest.subject}
    assert page.count("Reminder:") == 0 and "reminded 2 times" in page
    assert "Disputed" in page and "No answer asked" in page
    assert rows("open")[0] == {notice.subject}
    assert rows("overdue")[0] == {overdue.subject}
    assert rows("answered")[0] == {answered.subject}
    assert rows("nonsense")[0] == everything
    assert 'Overdue <span class="count">(1)</span>' in page


def _many(developer, count):
    factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")
    for n in range(count):
        notice = notice_create(
            developer=developer,
            topic=f"bulk:{n}",
            key=f"bulk:{n}",
            subject=f"Bulk notice {n:03}",
            text="Please remove.",
            answer_due_at=timezone.now() + timedelta(days=n % 5 - 1),
        )
        if n % 3 == 0:
            answer_record(notice=notice, kind="acknowledged", via="link")
        if n % 4 == 0:
            _reminder(notice)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == HTTPStatus.OK
    return len(captured)


def test_the_list_takes_as_many_queries_for_1_notice_as_for_60(
    client, developer, developer_user, other_developer, other_developer_user
):
    _many(developer, 60)
    factories.DeveloperContactFactory(developer=other_developer, email="legal@other.example")
    notice_create(developer=other_developer, topic="one", key="one", subject="One", text=".")

    client.force_login(other_developer_user)
    one = _queries(client, LIST)
    client.force_login(developer_user)
    sixty = _queries(client, LIST)

    assert sixty == one
    assert sixty <= 10


def test_the_list_is_paginated_by_25(dana, developer):
    _many(developer, 60)

    first = dana.get(LIST).content.decode()
    last = dana.get(LIST, {"page": 3}).content.decode()

    assert first.count("Bulk notice ") == 25 and "Bulk notice 059" in first
    assert last.count("Bulk notice ") == 10 and "Bulk notice 000" in last
    assert "Page 3 of 3" in last


# --- One notice, answered from the dashboard ----------------------------------------------------


def test_their_notice_shows_text_deliveries_and_answers(dana, notice):
    Delivery.objects.filter(notice=notice).update(status="delivered", delivered_at=timezone.now())
    answer_record(notice=notice, kind="acknowledged", statement="Seen.", via="link")

    page = dana.get(_detail(notice)).content.decode()

    assert "Please remove Pier at dusk." in page
    assert "legal@example-ai.example" in page and "Delivered" in page
    assert "via signed link" in page and "Seen." in page
    assert reverse("answers:notice-file", args=[notice.pk, notice.attachments.get().pk]) in page


def test_answering_from_the_dashboard_records_who_and_stops_reminders(dana, notice, developer_user):
    url = _detail(notice)

    response = dana.post(url, {"answer": "complied", "complied-statement": "Removed on 3 March."})
    again = dana.post(url, {"answer": "complied", "complied-statement": "Removed on 3 March."})

    assert response.status_code == again.status_code == HTTPStatus.FOUND
    answer = NoticeAnswer.objects.get()
    assert (answer.kind, answer.via, answer.user) == ("complied", "dashboard", developer_user)
    notice.refresh_from_db()
    assert notice.answered_at is not None
    page = dana.get(url).content.decode()
    assert "already recorded" in page
    assert "dana@example-ai.example" in page


def test_a_dispute_without_reason_is_refused_on_the_dashboard(dana, notice):
    response = dana.post(_detail(notice), {"answer": "disputed", "disputed-statement": ""})

    assert response.status_code == HTTPStatus.OK
    assert "Give the reason for the dispute." in response.content.decode()
    assert not NoticeAnswer.objects.exists()


def test_a_reminder_opens_the_notice_it_reminds_of(dana, notice):
    reminder = _reminder(notice)

    response = dana.get(_detail(reminder))

    assert response.status_code == HTTPStatus.FOUND and response["Location"] == _detail(notice)


def test_a_notice_that_asks_for_no_answer_has_no_forms_and_takes_none(dana, make_notice):
    digest = make_notice(subject="Weekly consent digest", answerable=False)

    page = dana.get(_detail(digest)).content.decode()
    response = dana.post(_detail(digest), {"answer": "acknowledged"})

    assert "Acknowledge the notice" not in page
    assert "asks for no answer" in response.content.decode()
    assert not NoticeAnswer.objects.exists()


def test_notice_pages_are_never_kept_by_shared_caches(client, sign_in, developer_user, make_notice):
    notice = make_notice()
    sign_in(developer_user)
    for url in (
        reverse("answers:developer-notice-list"),
        reverse("answers:developer-notice", args=[notice.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
