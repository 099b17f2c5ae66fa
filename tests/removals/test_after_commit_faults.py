"""Nothing that runs after a commit turns a success into an error page.

A committed approval answers its success page with the broker unreachable and the mail server
refusing: the request is approved, its notices committed, the creator's email kept — then
delivered once by a real worker when both are back. Evidence removed from a draft stays removed
when the storage cannot delete its file (the file is left behind and the error logged)."""

import time
from collections import Counter
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import mail
from accounts.models import OutboundEmail
from notices.models import Notice
from removals import services, updates
from removals.models import CreatorUpdate, RemovalEvidence, RemovalRequest
from tests.accounts import outbox
from tests.services import free_port

pytestmark = [pytest.mark.django_db(transaction=True)]

# The fault fixtures: a real SMTP server, a broker that is down until a real worker is started.
smtp, broker_outage = outbox.smtp, outbox.broker_outage

Status = OutboundEmail.Status


@pytest.mark.worker
def test_approval_with_broker_down_and_smtp_refusing_answers_success_and_mails_them_once(
    client, guild_staff, creator, make_request, smtp, broker_outage
):
    obj = make_request()
    smtp.handler.refuse[creator.email] = "451 4.3.0 Mailbox busy, try again later"
    client.force_login(guild_staff)
    broker_outage.down()

    started = time.monotonic()
    response = client.post(reverse("removals-staff:approve", args=[obj.pk]), {})
    elapsed = time.monotonic() - started

    # The normal success: back to the request's page, approved, its notices committed.
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("removals-staff:review", args=[obj.pk])
    assert elapsed < 5, f"the approval waited {elapsed:.1f} s on the broker"
    obj.refresh_from_db()
    assert obj.status == RemovalRequest.Status.APPROVED
    assert Notice.objects.filter(topic=obj.topic, kind=Notice.Kind.NOTICE).count() == 2
    # What to tell them is in the database (its wake-up was lost with the broker), nothing was
    # sent inside the request.
    update = CreatorUpdate.objects.get(request=obj, kind="approved")
    assert update.sent_at is None
    assert smtp.messages == []

    # The broker is back: beat's sweep of their updates queues their email in the outbox.
    broker_outage.up(smtp)
    updates.updates_sweep()
    email = OutboundEmail.objects.get(to=creator.email, subject__contains="approved")
    update.refresh_from_db()
    assert update.email_id == email.pk and update.sent_at is not None

    # The mail server still says 451: tried, kept, due again later.
    outbox.sweep_until(
        lambda: OutboundEmail.objects.filter(
            pk=email.pk, status=Status.QUEUED, last_error__contains="451"
        ).exists(),
        broker_outage,
        "the worker's first try to be refused with 451",
    )
    email.refresh_from_db()
    assert "451" in email.last_error and email.next_attempt_at > email.created_at
    assert email.message_id not in [m["Message-ID"] for m in smtp.messages]

    # The mail server accepts: delivered once, under the identity it was given when queued.
    smtp.handler.refuse.clear()
    outbox.sweep_until(
        lambda: OutboundEmail.objects.filter(pk=email.pk, status=Status.SENT).exists(),
        broker_outage,
        "their email to be sent",
    )
    for _ in range(3):  # later sweeps send nothing again
        mail.sweep()
        time.sleep(0.3)
    # Every email to them that the server saw is one of the outbox's, each exactly once.
    received_by_creator = [m for m in smtp.messages if m["To"] == creator.email]
    copies = Counter(m["Message-ID"] for m in received_by_creator)
    kept = OutboundEmail.objects.filter(to=creator.email, status=Status.SENT)
    assert copies[email.message_id] == 1
    assert set(copies) <= set(kept.values_list("message_id", flat=True))
    assert set(copies.values()) == {1}
    received = next(m for m in received_by_creator if m["Message-ID"] == email.message_id)
    assert "approved" in received["Subject"]
    email.refresh_from_db()
    assert email.attempts >= 2 and email.sent_at is not None  # one try refused at least


def test_evidence_removed_stays_removed_when_its_file_cannot_be_deleted(
    make_request, caplog, settings
):
    draft = make_request(submit=False)
    evidence = services.evidence_add(
        actor=draft.creator,
        request=draft,
        upload=SimpleUploadedFile("notes.txt", b"Used in the model card\n", "text/plain"),
    )
    undeletable = storage_cannot_delete(settings, evidence.file.name)

    services.evidence_remove(actor=draft.creator, evidence=evidence)

    assert not RemovalEvidence.objects.filter(pk=evidence.pk).exists()
    assert undeletable()
    assert any(record.levelname == "ERROR" for record in caplog.records)


def storage_cannot_delete(settings, name):
    """Make the storage fail to delete ``name``; returns a check that it is still there.
    A folder: a directory with something in it where the file was. A bucket: the bucket's
    address made one where nothing listens (each call refused at once)."""
    if settings.STORAGES["default"]["BACKEND"] == "accounts.bucket.BucketStorage":
        options = settings.STORAGES["default"]["OPTIONS"]
        live = {**options}
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                **settings.STORAGES["default"],
                "OPTIONS": {
                    **options,
                    "endpoint_url": f"http://127.0.0.1:{free_port()}",
                    "max_attempts": 1,
                },
            },
        }
        from accounts.bucket import BucketStorage

        return lambda: BucketStorage(**live).exists(name)
    path = Path(settings.MEDIA_ROOT) / name
    path.unlink()
    path.mkdir()
    (path / "kept").write_text("x")
    return path.exists
