"""Staff record an answer that arrived by other means (an email reply, a letter), with files
whose type is decided by their content; the files download only for staff and the notice's
organisation."""

import hashlib
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from notices.models import AnswerAttachment, NoticeAnswer
from notices.services import answer_record
from notices.services.answers import attachment_filename
from tests.storage import followed, stored_names

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
EML = (
    "From: Legal <legal@example-ai.example>\nSubject: Re: Removal of “Pier at dusk”\n\n"
    "We have removed the work from our datasets.\n"
).encode()
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture
def notice(make_notice):
    return make_notice(
        subject="Removal of “Pier at dusk”", answer_due_at=timezone.now() + timedelta(days=14)
    )


def _url(notice) -> str:
    return reverse("answers:staff-notice", args=[notice.pk])


def _files(*pairs):
    return [SimpleUploadedFile(name, content) for name, content in pairs]


def _post(client, notice, *, files=(), **fields):
    data = {
        "kind": "complied",
        "statement": "Removed from every dataset on 3 March.",
        "received_by": "Email reply from legal@example-ai.example, 4 March",
        **fields,
    }
    if files:
        data["attachments"] = list(files)
    return client.post(_url(notice), data)


def _stored_files(settings) -> list[str]:
    return stored_names()


def _nothing_written(settings):
    assert not NoticeAnswer.objects.exists()
    assert not AnswerAttachment.objects.exists()
    assert _stored_files(settings) == []


# --- Access ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client, notice):
    response = client.get(_url(notice))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("registry_manager", HTTPStatus.OK),
        ("superuser", HTTPStatus.OK),
        # Guild staff open only the notices of requests they moderate (tests/removals): this
        # one is no caller's, so for them it does not exist.
        ("guild_staff", HTTPStatus.NOT_FOUND),
        ("creator", HTTPStatus.FORBIDDEN),
        ("developer_user", HTTPStatus.FORBIDDEN),
        ("charlie", HTTPStatus.FORBIDDEN),
    ],
)
def test_registry_managers_and_superusers_open_the_staff_page_of_any_notice(
    client, request, notice, persona, status
):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(_url(notice)).status_code == status
    assert _post(client, notice).status_code in (status, HTTPStatus.FOUND)
    assert NoticeAnswer.objects.exists() == (status == HTTPStatus.OK)


def test_the_delivery_page_links_to_the_staff_notice_page(manager_client, notice):
    delivery = notice.deliveries.get()

    page = manager_client.get(reverse("notices:delivery-detail", args=[delivery.pk]))

    assert _url(notice) in page.content.decode()


# --- Recording -----------------------------------------------------------------------------------


def test_staff_record_an_answer_with_a_pdf_and_a_saved_email(
    client, registry_manager, notice, settings
):
    client.force_login(registry_manager)

    response = _post(client, notice, files=_files(("letter.pdf", PDF), ("reply.eml", EML)))

    assert response.status_code == HTTPStatus.FOUND and response["Location"] == _url(notice)
    answer = NoticeAnswer.objects.get()
    assert (answer.kind, answer.via, answer.user) == ("complied", "staff", registry_manager)
    assert answer.received_by == "Email reply from legal@example-ai.example, 4 March"
    notice.refresh_from_db()
    assert notice.answered_at == answer.created_at
    pdf, eml = answer.attachments.all()
    assert (pdf.filename, pdf.content_type, pdf.size) == ("letter.pdf", "application/pdf", len(PDF))
    assert pdf.sha256 == hashlib.sha256(PDF).hexdigest()
    assert pdf.file.read() == PDF
    assert (eml.filename, eml.content_type) == ("reply.eml", "text/plain; charset=utf-8")
    assert len(_stored_files(settings)) == 2
    event = AuditEvent.objects.get(action="notice.answer_record")
    assert event.actor == registry_manager
    assert event.after["attachments"].splitlines() == [
        f"letter.pdf ({len(PDF)} bytes, sha256 {hashlib.sha256(PDF).hexdigest()})",
        f"reply.eml ({len(EML)} bytes, sha256 {hashlib.sha256(EML).hexdigest()})",
    ]
    page = client.get(_url(notice)).content.decode()
    assert "Recorded by staff" in page and "recorded by registry@example.org" in page
    assert "with 2 attachments" in page
    assert reverse("answers:answer-file", args=[pdf.pk]) in page


def test_the_same_staff_answer_posted_twice_is_recorded_once(manager_client, notice, settings):
    _post(manager_client, notice, files=_files(("letter.pdf", PDF)))
    response = _post(manager_client, notice, files=_files(("letter.pdf", PDF)))

    assert NoticeAnswer.objects.count() == 1
    assert AnswerAttachment.objects.count() == 1 and len(_stored_files(settings)) == 1
    assert "already recorded" in manager_client.get(response["Location"]).content.decode()


def test_an_html_file_named_pdf_is_refused_and_nothing_is_written(manager_client, notice, settings):
    response = _post(manager_client, notice, files=_files(("letter.pdf", PDF), ("scan.pdf", HTML)))

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "“scan.pdf” is HTML or other markup" in page
    assert 'id="id_attachments_error"' in page
    _nothing_written(settings)


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_written(
    manager_client, notice, settings
):
    settings.NOTICES_ANSWER_ATTACHMENT_MAX_BYTES = 1024

    response = _post(manager_client, notice, files=_files(("big.pdf", PDF + b"0" * 2000)))

    assert response.status_code == HTTPStatus.OK
    assert "“big.pdf” is larger than 1.0 KB" in response.content.decode()
    _nothing_written(settings)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"received_by": "  "}, "Say how the answer arrived"),
        ({"kind": "disputed", "statement": ""}, "Give the reason for the dispute."),
        ({"kind": ""}, "Choose the answer the developer gave."),
    ],
)
def test_missing_fields_are_refused_next_to_the_field(
    manager_client, notice, settings, fields, message
):
    response = _post(manager_client, notice, files=_files(("letter.pdf", PDF)), **fields)

    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    _nothing_written(settings)


def test_if_the_files_cannot_be_stored_nothing_is_recorded(
    registry_manager, notice, settings, tmp_path
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker / "media"
    settings.STORAGES = {  # the folder, on the bucket leg too
        **settings.STORAGES,
        "default": {"BACKEND": "tests.storage.PathlessFolderStorage"},
    }

    with pytest.raises(ValidationError) as raised:
        answer_record(
            notice=notice,
            kind="acknowledged",
            via="staff",
            user=registry_manager,
            received_by="letter",
            attachments=_files(("letter.pdf", PDF)),
        )

    assert "could not be stored" in str(raised.value)
    assert not NoticeAnswer.objects.exists() and not AnswerAttachment.objects.exists()
    notice.refresh_from_db()
    assert notice.answered_at is None


def test_only_staff_answers_carry_attachments(notice):
    with pytest.raises(ValueError):
        answer_record(
            notice=notice, kind="acknowledged", via="link", attachments=_files(("a.pdf", PDF))
        )
    assert not NoticeAnswer.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "refusal"),
    [
        ("photo.jpg", PNG, "named like a JPEG image but its content is a PNG image"),
        ("scan.png", PDF, "named like a PNG image but its content is a PDF"),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "is not a PDF, a PNG or JPEG image"),
        ("page.html", b"Hello", "named as HTML"),
        ("latin1.txt", "Café".encode("latin-1"), "is not a PDF, a PNG or JPEG image"),
        ("empty.pdf", b"", "is empty"),
    ],
)
def test_types_are_decided_by_content_not_name(registry_manager, notice, name, content, refusal):
    with pytest.raises(ValidationError) as raised:
        answer_record(
            notice=notice,
            kind="acknowledged",
            via="staff",
            user=registry_manager,
            received_by="letter",
            attachments=_files((name, content)),
        )

    assert refusal in " ".join(raised.value.messages)
    assert not NoticeAnswer.objects.exists()


def test_accepted_types_and_their_names(registry_manager, notice):
    answer, _ = answer_record(
        notice=notice,
        kind="acknowledged",
        via="staff",
        user=registry_manager,
        received_by="letter",
        attachments=_files(("../../etc/scan", PNG), ("photo.jpeg", JPEG), ("run.bat", EML)),
    )

    assert [(a.filename, a.content_type) for a in answer.attachments.all()] == [
        ("scan.png", "image/png"),
        ("photo.jpeg", "image/jpeg"),
        ("run.bat.txt", "text/plain; charset=utf-8"),
    ]
    assert attachment_filename("$$$.pdf", "application/pdf") == "attachment.pdf"


# --- Downloads ---------------------------------------------------------------------------------


def test_attachments_download_for_staff_and_the_notices_organisation_only(
    client, notice, registry_manager, developer_user, other_developer_user, guild_staff, creator
):
    answer, _ = answer_record(
        notice=notice,
        kind="complied",
        statement="Removed.",
        via="staff",
        user=registry_manager,
        received_by="letter",
        attachments=_files(("letter.pdf", PDF)),
    )
    url = reverse("answers:answer-file", args=[answer.attachments.get().pk])
    assert client.get(url).status_code == HTTPStatus.FOUND  # anonymous: sign in first

    for user in (registry_manager, developer_user):
        client.force_login(user)
        file = followed(client.get(url))
        assert file.disposition == 'attachment; filename="letter.pdf"'
        assert file.content_type == "application/pdf"
        assert file.body == PDF
    for user in (other_developer_user, guild_staff, creator):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == HTTPStatus.NOT_FOUND, user
        assert "Location" not in response

    client.force_login(developer_user)
    page = client.get(reverse("answers:developer-notice", args=[notice.pk])).content.decode()
    assert url in page and "Recorded by staff" in page
