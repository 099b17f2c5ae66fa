"""The signed answer link: in every notice email and webhook, open to whoever holds it (no
account), changing nothing on GET, recording on POST, and refusing tampered and expired links
with a clear page."""

import json
import re
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from notices import answer_links, deliveries
from notices.deadlines import deadlines_run
from notices.models import Delivery, Notice, NoticeAnswer
from notices.services import CONTACT_CONFIRM_SALT
from notices.services.webhooks import webhook_endpoint_set
from tests.notices.test_webhooks import Receiver
from tests.storage import followed

LINK = re.compile(r"Answer this notice: (\S+)")


@pytest.fixture
def notice(make_notice):
    return make_notice(
        subject="Removal of “The Quiet Harbour”",
        text="Please remove The Quiet Harbour from your datasets.",
        answer_due_at=timezone.now() + timedelta(days=14),
    )


def _path(notice) -> str:
    return answer_links.answer_path(notice)


def _post(client, path, kind, statement=""):
    return client.post(path, {"answer": kind, f"{kind}-statement": statement})


def _sent_link(smtp, notice) -> str:
    """Send the notice's email through the real SMTP server; the link read from the text."""
    delivery = notice.deliveries.get(channel=Delivery.Channel.EMAIL)
    assert deliveries.attempt(delivery_id=delivery.pk) == Delivery.Status.DELIVERED
    message = smtp.messages[-1]
    text = message.get_body(("plain",)).get_content()
    [url] = LINK.findall(text)
    assert url in message.get_body(("html",)).get_content()
    return url


# --- The token ---------------------------------------------------------------------------------


def test_the_link_is_absolute_stable_and_names_its_notice(notice, make_notice, settings):
    settings.SITE_URL = "https://portal.example"
    url = answer_links.answer_url(notice)

    assert url.startswith("https://portal.example/answer/")
    assert url == answer_links.answer_url(notice)  # the same in every email and resend
    assert answer_links.notice_for_token(url.rsplit("/", 2)[-2]) == notice
    other = make_notice(answer_due_at=timezone.now() + timedelta(days=14))
    assert answer_links.answer_url(other) != url


def test_validity_runs_to_the_deadline_plus_grace_or_from_sending_without_one(
    notice, make_notice, settings
):
    settings.NOTICES_ANSWER_LINK_GRACE_DAYS = 30
    settings.NOTICES_ANSWER_LINK_DAYS_WITHOUT_DEADLINE = 90

    assert answer_links.link_expires_at(notice) == notice.answer_due_at + timedelta(days=30)
    without = make_notice()
    assert answer_links.link_expires_at(without) == without.created_at + timedelta(days=90)


# --- In the email and the webhook -------------------------------------------------------------


def test_the_email_actually_sent_carries_the_link_and_its_end_date(client, smtp, notice):
    url = _sent_link(smtp, notice)

    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert "needs no account" in text
    end = timezone.localtime(answer_links.link_expires_at(notice))
    assert f"The link works until {end.day} {end:%B %Y}" in text
    response = client.get(urlsplit(url).path)
    assert response.status_code == HTTPStatus.OK
    assert "The Quiet Harbour" in response.content.decode()


def test_a_notice_that_asks_for_no_answer_has_no_link(smtp, make_notice):
    digest = make_notice(subject="Consent digest", answerable=False)
    deliveries.attempt(delivery_id=digest.deliveries.get().pk)

    [message] = smtp.messages
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Answer this notice" not in text and "/answer/" not in text
    assert "/answer/" not in html
    assert "asks for no answer" in text


def test_the_webhook_payload_carries_the_link_and_the_api_url(
    settings, registry_manager, developer, make_notice
):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True
    settings.SITE_URL = "https://portal.example"
    receiver = Receiver()
    try:
        endpoint, secret = webhook_endpoint_set(
            actor=registry_manager, developer=developer, url=receiver.url()
        )
        notice = make_notice(answer_due_at=timezone.now() + timedelta(days=7))
        digest = make_notice(answerable=False)
        for sent in (notice, digest):
            delivery = sent.deliveries.get(channel=Delivery.Channel.WEBHOOK)
            assert deliveries.attempt(delivery_id=delivery.pk) == Delivery.Status.DELIVERED
        payloads = [Webhook(secret).verify(r["body"], r["headers"]) for r in receiver.requests]
    finally:
        receiver.close()

    data = payloads[0]["data"]
    assert data["answer_url"] == answer_links.answer_url(notice)
    assert data["answers_api_url"] == (
        "https://portal.example" + reverse("notices-api:notice-answers", args=[notice.pk])
    )
    assert payloads[1]["data"]["answer_url"] is None
    assert payloads[1]["data"]["answers_api_url"] is None


# --- Opening the link changes nothing -------------------------------------------------------------


def test_opening_the_link_shows_the_notice_and_changes_nothing(client, notice):
    path = _path(notice)

    response = client.get(path)
    client.head(path)

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Removal of “The Quiet Harbour”" in page
    assert "Please remove The Quiet Harbour from your datasets." in page
    assert notice.topic in page
    for button in ("Acknowledge the notice", "Report compliance", "Dispute the notice"):
        assert button in page
    assert not NoticeAnswer.objects.exists()
    notice.refresh_from_db()
    assert notice.answered_at is None


def test_the_link_page_is_never_cached_indexed_or_sent_as_referrer(client, notice):
    for response in (
        client.get(_path(notice)),
        client.get("/answer/not-a-token/"),
        _post(client, _path(notice), "acknowledged"),
    ):
        assert response["Cache-Control"] == "no-store"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Robots-Tag"] == "noindex"


def test_the_notices_own_files_download_through_the_link(client, make_notice):
    notice = make_notice(
        attachments=[("works.json", json.dumps({"works": [1]}), "application/json")]
    )
    file = notice.attachments.get()
    page = client.get(_path(notice)).content.decode()
    url = reverse("answers:link-file", args=[answer_links.answer_token(notice), file.pk])
    assert url in page

    file = followed(client.get(url))

    assert file.disposition.startswith("attachment")
    assert json.loads(file.body) == {"works": [1]}
    other = make_notice(attachments=[("other.json", "{}", "application/json")])
    stolen = reverse(
        "answers:link-file", args=[answer_links.answer_token(notice), other.attachments.get().pk]
    )
    assert client.get(stolen).status_code == HTTPStatus.NOT_FOUND


# --- Answering through the link -----------------------------------------------------------------


def test_posting_an_answer_records_it_via_the_link_and_stops_the_reminders(client, notice):
    Notice.objects.filter(pk=notice.pk).update(created_at=timezone.now() - timedelta(days=20))
    Notice.objects.filter(pk=notice.pk).update(answer_due_at=timezone.now() + timedelta(hours=12))
    path = _path(notice)

    response = _post(client, path, "acknowledged", "Our legal team is on it.")

    assert response.status_code == HTTPStatus.FOUND and response["Location"] == path
    answer = NoticeAnswer.objects.get()
    assert (answer.notice, answer.kind, answer.via) == (notice, "acknowledged", "link")
    assert answer.statement == "Our legal team is on it." and answer.user is None
    notice.refresh_from_db()
    assert notice.answered_at == answer.created_at
    assert deadlines_run()["reminders"] == 0
    assert not Notice.objects.filter(reminds=notice).exists()
    page = client.get(path).content.decode()
    assert "Your acknowledgement is recorded" in page
    assert "via signed link" in page and "Our legal team is on it." in page


def test_the_same_answer_posted_twice_is_recorded_once(client, notice):
    path = _path(notice)

    _post(client, path, "disputed", "We never used this work.")
    response = _post(client, path, "disputed", "We never used this work.")

    assert NoticeAnswer.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "already recorded" in page


def test_acknowledged_then_complied_are_two_answers(client, notice):
    path = _path(notice)

    _post(client, path, "acknowledged")
    _post(client, path, "complied", "Removed from the 2026 training set on 3 March.")

    assert list(NoticeAnswer.objects.values_list("kind", "via")) == [
        ("acknowledged", "link"),
        ("complied", "link"),
    ]
    page = client.get(path).content.decode()
    assert "Removed from the 2026 training set on 3 March." in page
    assert "Acknowledge the notice" not in page  # after compliance it would add nothing


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("complied", "Say what you did to comply"),
        ("disputed", "Give the reason for the dispute."),
    ],
)
def test_compliance_or_dispute_without_a_statement_is_refused_next_to_the_field(
    client, notice, kind, message
):
    response = _post(client, _path(notice), kind, "   ")

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    error_id = f"id_{kind}-statement_error"
    assert re.search(rf'id="{error_id}"[^>]*>.*{re.escape(message)}', page, re.S)
    field = re.search(rf'<textarea[^>]*name="{kind}-statement"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field and error_id in field
    assert not NoticeAnswer.objects.exists()
    notice.refresh_from_db()
    assert notice.answered_at is None


def test_an_answer_without_the_csrf_token_is_refused(notice):
    client = Client(enforce_csrf_checks=True)

    response = _post(client, _path(notice), "acknowledged")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not NoticeAnswer.objects.exists()


def _csrf_post(client, path, **headers):
    page = client.get(path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = {"csrfmiddlewaretoken": token, "answer": "acknowledged"}
    return client.post(path, data, headers=headers)


def test_answers_need_the_pages_csrf_token_and_a_same_origin_post(notice):
    """The link page is open to anyone holding the link, so its form is CSRF-protected like every
    other: a post from another site, or without the page's token, records nothing."""
    client = Client(enforce_csrf_checks=True)
    path = _path(notice)

    refused = [
        _csrf_post(client, path, origin="null"),
        _csrf_post(client, path, origin="https://attacker.example"),
        client.post(path, {"answer": "acknowledged"}, headers={"origin": "http://testserver"}),
    ]
    assert [r.status_code for r in refused] == [HTTPStatus.FORBIDDEN] * 3
    assert not NoticeAnswer.objects.exists()

    accepted = _csrf_post(client, path, origin="http://testserver")

    assert accepted.status_code == HTTPStatus.FOUND
    assert NoticeAnswer.objects.get().via == "link"


def test_a_reminders_link_answers_the_notice_it_reminds_of(client, smtp, notice):
    Notice.objects.filter(pk=notice.pk).update(
        created_at=timezone.now() - timedelta(days=20),
        answer_due_at=timezone.now() + timedelta(hours=12),
    )
    assert deadlines_run()["reminders"] == 1
    reminder = Notice.objects.get(reminds=notice)

    url = _sent_link(smtp, reminder)
    _post(client, urlsplit(url).path, "complied", "Removed from every dataset.")

    answer = NoticeAnswer.objects.get()
    assert answer.notice == notice
    notice.refresh_from_db()
    assert notice.answered_at is not None
    assert url == answer_links.answer_url(notice)


# --- Tampered and expired links -------------------------------------------------------------------


def _flip(char: str) -> str:
    return "B" if char != "B" else "C"


@pytest.mark.parametrize("where", ["payload", "signature"])
def test_a_tampered_link_gets_a_clear_400_page_without_the_notice(client, notice, where):
    token = answer_links.answer_token(notice)
    index = 2 if where == "payload" else len(token) - 3
    tampered = token[:index] + _flip(token[index]) + token[index + 1 :]

    response = client.get(reverse("answers:link", args=[tampered]))
    posted = _post(client, reverse("answers:link", args=[tampered]), "acknowledged")

    assert response.status_code == posted.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert "This link is not valid" in page
    assert "Quiet Harbour" not in page and notice.topic not in page
    assert not NoticeAnswer.objects.exists()


def test_a_token_signed_for_something_else_or_another_notice_is_refused(client, notice):
    digest = answer_links._key_digest(notice.key)
    other_salt = signing.Signer(salt=CONTACT_CONFIRM_SALT).sign_object(
        {"n": notice.pk, "k": digest}
    )
    Notice.objects.filter(pk=notice.pk).update(key="re-created:with-the-same-id")

    for token in (other_salt, answer_links.answer_token(notice)):  # the key no longer matches
        response = client.get(reverse("answers:link", args=[token]))
        assert response.status_code == HTTPStatus.BAD_REQUEST


def test_an_expired_link_gets_410_saying_when_and_how_to_answer_otherwise(
    client, make_notice, settings
):
    settings.NOTICES_ANSWER_LINK_GRACE_DAYS = 30
    late = make_notice(answer_due_at=timezone.now() - timedelta(days=31), reply_to="n@wggb.example")
    still = make_notice(answer_due_at=timezone.now() - timedelta(days=29))

    response = client.get(_path(late))
    posted = _post(client, _path(late), "acknowledged")

    assert response.status_code == posted.status_code == HTTPStatus.GONE
    page = response.content.decode()
    assert "This answer link has expired" in page
    end = timezone.localtime(late.answer_due_at + timedelta(days=30))
    assert f"{end.day} {end:%B %Y}" in page
    assert "reply to the notice email" in page and "n@wggb.example" in page
    assert not NoticeAnswer.objects.exists()
    assert client.get(_path(still)).status_code == HTTPStatus.OK


def test_a_link_without_deadline_expires_after_the_configured_days(client, make_notice, settings):
    settings.NOTICES_ANSWER_LINK_DAYS_WITHOUT_DEADLINE = 90
    old = make_notice()
    Notice.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))

    assert client.get(_path(old)).status_code == HTTPStatus.GONE
