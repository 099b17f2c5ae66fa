"""Emails to creators and staff are durable, with real parts: a database row written in the
caller's transaction, sent by a worker outside any transaction, retried from the database.

A real SMTP server (aiosmtpd on loopback) that answers 451 or 550 when told to; where the
broker matters, a real ``celery worker`` process sharing the test database and broker (see
``tests/accounts/outbox.py``).
"""

import time
from http import HTTPStatus

import pytest
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse

from accounts import mail
from accounts.models import OutboundEmail

from . import outbox

pytestmark = [pytest.mark.django_db(transaction=True)]

# The fault fixtures: a real SMTP server, a broker that is down until a real worker is started.
smtp, broker_outage = outbox.smtp, outbox.broker_outage

Status = OutboundEmail.Status


def test_550_fails_the_email_at_once_and_it_is_not_retried(smtp):
    smtp.handler.refuse["gone@example.org"] = "550 5.1.1 No such user"

    with transaction.atomic():
        mail.queue_message(EmailMessage("Your claim", "Decided.", to=["gone@example.org"]))

    email = OutboundEmail.objects.get()
    assert email.status == Status.FAILED and email.attempts == 1
    assert "550" in email.last_error
    mail.sweep()
    email.refresh_from_db()
    assert email.status == Status.FAILED and email.attempts == 1
    assert smtp.messages == []


def test_451_in_process_keeps_the_email_queued_with_a_back_off(smtp):
    smtp.handler.refuse["busy@example.org"] = "451 4.3.0 Try again later"

    with transaction.atomic():
        mail.queue_message(EmailMessage("Your claim", "Decided.", to=["busy@example.org"]))

    email = OutboundEmail.objects.get()
    assert email.status == Status.QUEUED and email.attempts == 1
    assert "451" in email.last_error and email.lease_until is None
    assert email.next_attempt_at > email.created_at


@pytest.mark.worker
def test_rolled_back_emails_are_never_sent_and_committed_ones_survive_the_broker(
    smtp, broker_outage
):
    broker_outage.down()
    with transaction.atomic():
        mail.queue_message(EmailMessage("Kept", "Committed.", to=["kept@example.org"]))
        try:
            with transaction.atomic():  # a savepoint rolled back
                mail.queue_message(EmailMessage("Dropped", "Savepoint.", to=["sp@example.org"]))
                raise RuntimeError("the inner step failed")
        except RuntimeError:
            pass
    with pytest.raises(RuntimeError), transaction.atomic():
        mail.queue_message(EmailMessage("Dropped", "Rolled back.", to=["rb@example.org"]))
        raise RuntimeError("the whole change failed")

    assert list(OutboundEmail.objects.values_list("to", "status")) == [
        ("kept@example.org", Status.QUEUED)
    ]
    assert smtp.messages == []  # nothing sent inside the request

    broker_outage.up(smtp)
    outbox.sweep_until(
        lambda: OutboundEmail.objects.filter(status=Status.SENT).exists(),
        broker_outage,
        "the committed email to be sent",
    )
    time.sleep(0.5)
    assert [m["To"] for m in smtp.messages] == ["kept@example.org"]
    assert smtp.messages[0]["Message-ID"] == OutboundEmail.objects.get().message_id


def test_failed_emails_are_listed_for_operators_without_their_body(smtp, client, superuser):
    smtp.handler.refuse["gone@example.org"] = "550 5.1.1 No such user"
    with transaction.atomic():
        mail.queue_message(
            EmailMessage("Reset your password", "secret-link-123", to=["gone@example.org"])
        )
    client.force_login(superuser)

    page = client.get(reverse("admin:accounts_outboundemail_changelist")).content.decode()
    assert "gone@example.org" in page and "Reset your password" in page and "Failed" in page
    email = OutboundEmail.objects.get()
    detail = client.get(reverse("admin:accounts_outboundemail_change", args=[email.pk]))
    assert detail.status_code == HTTPStatus.OK
    assert "550" in detail.content.decode()
    assert "secret-link-123" not in detail.content.decode()
    assert client.post(reverse("admin:accounts_outboundemail_add"), {}).status_code == 403
