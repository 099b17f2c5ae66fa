"""The notices API: an organisation's systems read their notices and answer them with an API
key. Nothing but a valid, active key of the notice's own organisation gets in."""

import hashlib
import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notices.models import APIKey, Notice, NoticeAnswer
from notices.services import answer_record, api_key_create, api_key_revoke


@pytest.fixture
def api_key(developer_user, developer):
    """A key of ``developer`` (Example AI Ltd), in clear."""
    _, clear = api_key_create(actor=developer_user, developer=developer, name="pipeline")
    return clear


@pytest.fixture
def api(api_key):
    """A client without cookies that sends ``api_key``."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_key}")


@pytest.fixture
def notice(make_notice):
    return make_notice(answer_due_at=timezone.now() + timedelta(days=14))


def _answers_url(notice) -> str:
    return reverse("notices-api:notice-answers", args=[notice.pk])


def _post(client, url, body, content_type="application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data, content_type=content_type)


def _nothing_recorded(notice):
    notice.refresh_from_db()
    assert not NoticeAnswer.objects.exists()
    assert notice.answered_at is None


# --- Answering ------------------------------------------------------------------------------------


def test_an_answer_posted_twice_is_recorded_once(api, notice):
    url = _answers_url(notice)
    body = {"answer": "complied", "statement": "Removed from the 2026 training set."}

    first = _post(api, url, body)

    assert first.status_code == HTTPStatus.CREATED
    assert first["Cache-Control"] == "no-store"
    answer = NoticeAnswer.objects.get()
    assert first.json() == {
        "id": answer.pk,
        "notice": notice.pk,
        "answer": "complied",
        "statement": "Removed from the 2026 training set.",
        "via": "api",
        "received_by": "",
        "created_at": first.json()["created_at"],
        "url": first["Location"],
    }
    assert first["Location"].endswith(
        reverse("notices-api:notice-answer", args=[notice.pk, answer.pk])
    )
    assert answer.via == NoticeAnswer.Via.API
    assert answer.api_key == APIKey.objects.get()
    notice.refresh_from_db()
    assert notice.answered_at == answer.created_at  # which stops the reminders

    second = _post(api, url, body)

    assert second.status_code == HTTPStatus.OK
    assert second.json()["id"] == answer.pk
    assert "Location" not in second
    assert NoticeAnswer.objects.count() == 1


def test_the_spawning_form_of_the_header_is_accepted(api_key, notice):
    client = Client(HTTP_AUTHORIZATION=f"API {api_key}")

    response = _post(client, _answers_url(notice), {"answer": "acknowledged"})

    assert response.status_code == HTTPStatus.CREATED
    assert NoticeAnswer.objects.get().kind == "acknowledged"


def test_the_answers_are_listed_and_each_can_be_read(api, notice):
    _post(api, _answers_url(notice), {"answer": "acknowledged"})
    location = _post(api, _answers_url(notice), {"answer": "disputed", "statement": "Not ours."})[
        "Location"
    ]

    listed = api.get(_answers_url(notice))

    assert listed.status_code == HTTPStatus.OK
    assert [a["answer"] for a in listed.json()["results"]] == ["acknowledged", "disputed"]
    one = api.get(location)
    assert one.status_code == HTTPStatus.OK
    assert one.json() == listed.json()["results"][1]


def test_the_last_use_of_the_key_is_noted(api, notice):
    assert APIKey.objects.get().last_used_at is None

    api.get(_answers_url(notice))

    assert APIKey.objects.get().last_used_at is not None


# --- Keys that do not get in ---------------------------------------------------------------------


def test_a_revoked_key_is_refused(api, notice, developer_user):
    api_key_revoke(actor=developer_user, key=APIKey.objects.get())

    response = _post(api, _answers_url(notice), {"answer": "acknowledged"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith('Bearer realm="api"')
    assert response["Cache-Control"] == "no-store"
    assert response.json()["error"]["code"] == "invalid_key"
    _nothing_recorded(notice)


def test_another_organisations_key_finds_no_such_notice(
    notice, other_developer_user, other_developer
):
    _, theirs = api_key_create(actor=other_developer_user, developer=other_developer, name="x")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {theirs}")

    posted = _post(client, _answers_url(notice), {"answer": "disputed", "statement": "No."})

    assert posted.status_code == HTTPStatus.NOT_FOUND
    assert posted.json()["error"]["code"] == "not_found"
    for url in (
        _answers_url(notice),
        reverse("notices-api:notice-detail", args=[notice.pk]),
    ):
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert client.get(reverse("notices-api:notice-list")).json()["results"] == []
    _nothing_recorded(notice)


def test_the_key_of_an_inactive_organisation_is_refused(api, notice, developer):
    developer.is_active = False
    developer.save(update_fields=["is_active"])

    response = _post(api, _answers_url(notice), {"answer": "acknowledged"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    _nothing_recorded(notice)


@pytest.mark.parametrize(
    "header, code",
    [
        ("", "missing_key"),
        ("Bearer", "invalid_key"),
        ("Bearer ", "invalid_key"),
        ("Basic {key}", "invalid_key"),
        ("Token {key}", "invalid_key"),
        ("{key}", "invalid_key"),
        ("Bearer {key} {key}", "invalid_key"),
        ("Bearer xyz_{prefix}_{secret}", "invalid_key"),
        ("Bearer ccp_{prefix}_{secret}x", "invalid_key"),
        ("Bearer ccp_{prefix}_wrong-secret", "invalid_key"),
        ("Bearer ccp_00000000_{secret}", "invalid_key"),
    ],
)
def test_a_malformed_or_wrong_authorization_is_refused(api_key, notice, header, code):
    _, prefix, secret = api_key.split("_", 2)
    value = header.format(key=api_key, prefix=prefix, secret=secret)
    client = Client(HTTP_AUTHORIZATION=value) if value else Client()

    response = _post(client, _answers_url(notice), {"answer": "acknowledged"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"].startswith('Bearer realm="api"')
    assert response.json()["error"]["code"] == code
    _nothing_recorded(notice)
    assert APIKey.objects.get().last_used_at is None


def test_a_signed_in_session_is_no_key(sign_in, developer_user, notice):
    client = sign_in(developer_user)
    client.handler.enforce_csrf_checks = True  # as a browser would be checked

    posted = _post(client, _answers_url(notice), {"answer": "acknowledged"})
    read = client.get(reverse("notices-api:notice-list"))

    assert posted.status_code == read.status_code == HTTPStatus.UNAUTHORIZED
    assert posted.json()["error"]["code"] == "missing_key"
    _nothing_recorded(notice)


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type, body, status, code, field",
    [
        ("text/plain", '{"answer": "acknowledged"}', 415, "unsupported_media_type", None),
        (
            "application/x-www-form-urlencoded",
            "answer=acknowledged",
            415,
            "unsupported_media_type",
            None,
        ),
        ("application/json", '{"answer": "acknowledged"', 400, "malformed_json", None),
        ("application/json", b'{"answer": "\xff"}', 400, "malformed_json", None),
        ("application/json", "[" * 50_000, 400, "malformed_json", None),
        ("application/json", '["acknowledged"]', 400, "invalid", None),
        ("application/json", "{}", 400, "invalid", "answer"),
        ("application/json", '{"answer": "agreed"}', 400, "invalid", "answer"),
        ("application/json", '{"answer": 1}', 400, "invalid", "answer"),
        ("application/json", '{"answer": "complied", "statement": 5}', 400, "invalid", "statement"),
        (
            "application/json",
            '{"answer": "acknowledged", "comment": "hi"}',
            400,
            "invalid",
            "comment",
        ),
        ("application/json", '{"answer": "complied"}', 400, "rejected", None),
        ("application/json", '{"answer": "disputed", "statement": "   "}', 400, "rejected", None),
        (
            "application/json",
            json.dumps({"answer": "complied", "statement": "x" * (64 * 1024)}),
            400,
            "body_too_large",
            None,
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    api, notice, content_type, body, status, code, field
):
    response = _post(api, _answers_url(notice), body, content_type=content_type)

    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    if field:
        assert field in error["fields"]
    _nothing_recorded(notice)


def test_a_statement_just_under_the_body_limit_is_accepted(api, notice):
    statement = "y" * (60 * 1024)

    response = _post(api, _answers_url(notice), {"answer": "complied", "statement": statement})

    # The service keeps statements under 10,000 characters: the body passed the size check.
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["code"] == "rejected"
    assert "10,000" in response.json()["error"]["message"]


def test_a_notice_that_asks_for_no_answer_refuses_one(api, make_notice):
    digest = make_notice(answerable=False)

    response = _post(api, _answers_url(digest), {"answer": "acknowledged"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "asks for no answer" in response.json()["error"]["message"]
    _nothing_recorded(digest)


@pytest.mark.parametrize(
    "method, url_name, allow",
    [
        ("put", "notices-api:notice-answers", "GET, POST"),
        ("delete", "notices-api:notice-answers", "GET, POST"),
        ("post", "notices-api:notice-detail", "GET"),
        ("post", "notices-api:notice-list", "GET"),
    ],
)
def test_other_methods_are_not_allowed(api, notice, method, url_name, allow):
    args = [] if url_name == "notices-api:notice-list" else [notice.pk]

    response = getattr(api, method)(reverse(url_name, args=args))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == allow
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_an_unknown_notice_is_404(api, notice):
    response = api.get(reverse("notices-api:notice-answers", args=[notice.pk + 1000]))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]["code"] == "not_found"


# --- Reading notices -----------------------------------------------------------------------------


def test_a_notice_is_read_with_its_attachments_and_answers(api, make_notice):
    notice = make_notice(
        subject="Removal of “Night Train”",
        text="Please remove the work from your datasets.",
        attachments=[("works.json", b'{"works": []}', "application/json")],
        answer_due_at=timezone.now() + timedelta(days=14),
    )
    answer_record(notice=notice, kind="acknowledged", via="api", api_key=APIKey.objects.get())

    response = api.get(reverse("notices-api:notice-detail", args=[notice.pk]))

    assert response.status_code == HTTPStatus.OK
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["id"] == notice.pk
    assert body["subject"] == "Removal of “Night Train”"
    assert body["text"] == "Please remove the work from your datasets."
    attachment = notice.attachments.get()
    assert body["attachments"] == [
        {
            "filename": "works.json",
            "content_type": "application/json",
            "size": 13,
            "sha256": hashlib.sha256(b'{"works": []}').hexdigest(),
            "url": "http://testserver"
            + reverse("notices-api:notice-attachment", args=[notice.pk, attachment.pk]),
        }
    ]
    assert [a["answer"] for a in body["answers"]] == ["acknowledged"]

    # The file itself, as sent; another organisation's key or another notice's id finds nothing.
    download = api.get(body["attachments"][0]["url"])
    assert download.status_code == HTTPStatus.OK
    assert download.getvalue() == b'{"works": []}'
    assert download["Content-Disposition"] == 'attachment; filename="works.json"'
    assert download["X-Content-SHA256"] == body["attachments"][0]["sha256"]
    other = make_notice()
    wrong = reverse("notices-api:notice-attachment", args=[other.pk, attachment.pk])
    assert api.get(wrong).status_code == HTTPStatus.NOT_FOUND
    assert Client().get(body["attachments"][0]["url"]).status_code == HTTPStatus.UNAUTHORIZED
    assert body["answered_at"] is not None
    assert body["overdue"] is False


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_notices_are_listed_newest_first_a_page_at_a_time(api, make_notice, other_developer):
    made = [make_notice() for _ in range(5)]
    Notice.objects.create(
        developer=other_developer, topic="t:x", key="other:1", subject="Theirs", text="."
    )
    url = reverse("notices-api:notice-list")

    pages, response = [], api.get(url, {"limit": 2})
    while True:
        assert response.status_code == HTTPStatus.OK
        pages.append(_ids(response))
        if not response.json()["next"]:
            break
        response = api.get(response.json()["next"])

    expected = [n.pk for n in reversed(made)]
    assert pages == [expected[0:2], expected[2:4], expected[4:5]]
    first = api.get(url).json()["results"][0]
    assert set(first) >= {
        "id",
        "topic",
        "kind",
        "subject",
        "created_at",
        "answer_due_at",
        "answered_at",
        "overdue",
    }


def test_notices_are_filtered_by_state(api, make_notice):
    now = timezone.now()
    open_ = make_notice(answer_due_at=now + timedelta(days=7))
    no_deadline = make_notice()
    answered = make_notice(answer_due_at=now + timedelta(days=7))
    answer_record(notice=answered, kind="acknowledged", via="api", api_key=APIKey.objects.get())
    late = make_notice(answer_due_at=now - timedelta(days=1))
    marked = make_notice(answer_due_at=now - timedelta(days=3))
    Notice.objects.filter(pk=marked.pk).update(overdue_at=now - timedelta(days=2))
    digest = make_notice(answerable=False)
    url = reverse("notices-api:notice-list")

    assert set(_ids(api.get(url, {"state": "open"}))) == {open_.pk, no_deadline.pk}
    assert set(_ids(api.get(url, {"state": "answered"}))) == {answered.pk}
    overdue = api.get(url, {"state": "overdue"})
    assert set(_ids(overdue)) == {late.pk, marked.pk}
    assert all(row["overdue"] for row in overdue.json()["results"])
    everything = api.get(url).json()["results"]
    assert {row["id"] for row in everything} == {
        open_.pk,
        no_deadline.pk,
        answered.pk,
        late.pk,
        marked.pk,
        digest.pk,
    }
    assert [row["id"] for row in everything if row["overdue"]] == [marked.pk, late.pk]


def test_a_reminder_carries_the_answer_state_of_its_notice(api, make_notice):
    notice = make_notice(answer_due_at=timezone.now() + timedelta(days=2))
    reminder = make_notice(kind=Notice.Kind.REMINDER, reminds=notice, answerable=True)

    posted = _post(api, _answers_url(reminder), {"answer": "acknowledged"})

    assert posted.status_code == HTTPStatus.CREATED
    assert posted.json()["notice"] == notice.pk  # an answer to a reminder is about its notice
    answered = api.get(reverse("notices-api:notice-list"), {"state": "answered"})
    assert set(_ids(answered)) == {notice.pk, reminder.pk}
    assert api.get(_answers_url(reminder)).json() == api.get(_answers_url(notice)).json()


@pytest.mark.parametrize(
    "query, field",
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"state": "closed"}, "state"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJ4IiwgMV0"}, "cursor"),  # ["x", 1]
    ],
)
def test_bad_list_parameters_are_400(api, query, field):
    response = api.get(reverse("notices-api:notice-list"), query)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()["error"]["fields"]


def _bulk_notices(developer, start, stop):
    """Notices ``start`` to ``stop``; the even ones are past their deadline."""
    now = timezone.now()
    Notice.objects.bulk_create(
        Notice(
            developer=developer,
            topic=f"bulk:{n}",
            key=f"bulk:{n}",
            subject=f"Bulk {n}",
            text=".",
            answer_due_at=now + timedelta(days=-1 if n % 2 == 0 else 1),
            created_at=now - timedelta(minutes=n),
        )
        for n in range(start, stop)
    )


@pytest.mark.parametrize("state, at_5, at_120", [("", 5, 100), ("overdue", 3, 60)])
def test_the_list_makes_the_same_queries_however_many_notices(
    api, developer, state, at_5, at_120, django_assert_max_num_queries
):
    url = reverse("notices-api:notice-list")
    query = {"limit": 100, **({"state": state} if state else {})}
    _bulk_notices(developer, 0, 5)
    api.get(url)  # notes the key's last use, which is written at most once a minute
    with CaptureQueriesContext(connection) as few:
        small = api.get(url, query)
    _bulk_notices(developer, 5, 120)

    with django_assert_max_num_queries(len(few.captured_queries)):
        large = api.get(url, query)

    # The rate limits' counters live in the cache: on the embedded default its table (each
    # write in a savepoint), on Redis no query at all. The API's own queries:
    own = [
        query["sql"]
        for query in few.captured_queries
        if "portal_cache" not in query["sql"] and "SAVEPOINT" not in query["sql"]
    ]
    assert len(own) <= 2, own  # the key, the page
    assert len(small.json()["results"]) == at_5
    assert len(large.json()["results"]) == at_120
    assert bool(large.json()["next"]) == (at_120 == 100)
