"""A developer answers a notice from the email they received, in a real browser on a phone-sized
screen and with no account: the notice goes out over real SMTP, they follow the link read out
of the message, disputes the notice with a reason, and sees their dispute recorded — and the page
passes an accessibility audit."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notices import deliveries
from notices.models import NoticeAnswer
from notices.services import notice_create
from tests import factories
from tests.services import wait_for

pytestmark = pytest.mark.browser

REASON = "We never collected this work: our crawler honours the site's robots.txt."


@pytest.fixture
def smtp_mail(settings, smtp_server):
    from notices.transports import EmailTransport

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield smtp_server
    EmailTransport()._drop_connection()


def test_a_developer_disputes_a_notice_through_the_link_in_their_email(
    live_server, page, audit, smtp_mail, settings
):
    settings.SITE_URL = live_server.url  # the link in the email points at this server
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")
    with transaction.atomic():
        notice = notice_create(
            developer=developer,
            topic="removal:42",
            key="removal:42:developer:1",
            subject="Removal of “The Quiet Harbour”",
            text="Please remove “The Quiet Harbour” from your datasets and models.",
            answer_due_at=timezone.now() + timedelta(days=14),
        )
    for delivery in notice.deliveries.all():  # in case the commit did not already send it
        deliveries.attempt(delivery_id=delivery.pk)

    message = wait_for(lambda: smtp_mail.messages, what="the notice email")[0]
    assert message["To"] == "legal@example-ai.example"
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"Answer this notice: (\S+)", text).group(1)
    assert link.startswith(live_server.url + "/answer/")

    response = page.goto(link)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "same-origin"
    assert page.get_by_role("heading", name="Removal of “The Quiet Harbour”", level=1).is_visible()
    assert page.get_by_text("No answer yet.").is_visible()
    audit(page)

    page.get_by_label("Reason for the dispute").fill(REASON)
    page.get_by_role("button", name="Dispute the notice").click()
    page.wait_for_load_state()

    assert page.url == link  # back on the link page (post, redirect, get)
    assert page.get_by_text(re.compile("Your dispute is recorded")).is_visible()
    answers = page.get_by_role("region", name="Answers so far")
    assert answers.get_by_text("Disputed").is_visible()
    assert answers.get_by_text(REASON).is_visible()
    assert answers.get_by_text(re.compile("via signed link")).is_visible()
    audit(page)

    answer = NoticeAnswer.objects.get()
    assert (answer.notice_id, answer.kind, answer.via) == (notice.pk, "disputed", "link")
    assert answer.statement == REASON and answer.user is None
    notice.refresh_from_db()
    assert notice.answered_at is not None


def _signed_in(page, live_server, user):
    """Give the browser a session of ``user`` (the sign-in form has its own tests)."""
    from django.conf import settings as django_settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_the_developers_notices_and_the_staff_notice_page_pass_the_audit(
    live_server, page, audit, tmp_path
):
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")
    dana = factories.DeveloperMemberFactory(
        developer=developer, user__email="dana@example-ai.example"
    ).user
    manager = factories.UserFactory(email="registry@example.org", is_registry_manager=True)
    with transaction.atomic():
        notice = notice_create(
            developer=developer,
            topic="removal:7",
            key="removal:7:developer:1",
            subject="Removal of “Pier at dusk”",
            text="Please remove “Pier at dusk”.",
            answer_due_at=timezone.now() + timedelta(days=14),
        )

    _signed_in(page, live_server, manager)
    page.goto(f"{live_server.url}/registry/notices/{notice.pk}/")
    audit(page)
    page.get_by_label("Complied").check()
    page.get_by_label("Statement").fill("Removed from every dataset, says their letter.")
    page.get_by_label("How it arrived").fill("Letter dated 3 March")
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.get_by_label("Attachments (optional)").set_input_files([str(letter)])
    page.get_by_role("button", name="Record the answer").click()
    page.wait_for_load_state()
    assert page.get_by_text(re.compile("recorded as received by staff")).is_visible()
    assert page.get_by_role("link", name="letter.pdf").is_visible()
    audit(page)

    page.context.clear_cookies()
    _signed_in(page, live_server, dana)
    page.goto(f"{live_server.url}/developer/notices/")
    audit(page)
    page.get_by_role("link", name="Removal of “Pier at dusk”").click()
    page.wait_for_url(re.compile(rf"/developer/notices/{notice.pk}/$"))
    assert page.get_by_text("Recorded by staff").is_visible()
    audit(page)

    answer = NoticeAnswer.objects.get()
    assert (answer.via, answer.user, answer.attachments.count()) == ("staff", manager, 1)
