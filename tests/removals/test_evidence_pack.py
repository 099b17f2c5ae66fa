"""The evidence pack: a ZIP with an HTML summary, the notices as sent, delivery records, answers,
their consent-ledger entries with their hashes, and their evidence files — for the creator (and
staff filing under their mandate) only."""

import csv
import hashlib
import io
import json
import zipfile
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Mandate
from consent import services as consent_services
from notices.models import Delivery, Notice, message_id_for
from notices.services import answer_record
from removals import services
from tests import factories


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def _download(client, removal) -> zipfile.ZipFile:
    response = client.get(reverse("removals:evidence-pack", args=[removal.pk]))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _csv(archive, name) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


@pytest.fixture
def answered_request(make_request, creator, guild_staff, developer, other_developer, two_works):
    removal = make_request(submit=False)
    services.draft_update(
        actor=creator,
        request=removal,
        title="<script>alert('pack')</script>",
        where_used="<img src=x onerror=alert(1)> https://dataset.example/books3",
    )
    services.evidence_add(
        actor=creator,
        request=removal,
        upload=SimpleUploadedFile("listing.png", _png(), content_type="image/png"),
        note="Books3 index",
    )
    services.request_submit(actor=creator, request=removal, good_faith=True, accurate=True)
    notices = services.request_approve(actor=guild_staff, request=removal)
    theirs = next(n for n in notices if n.developer == developer)
    Delivery.objects.filter(notice=theirs).update(
        status=Delivery.Status.DELIVERED, delivered_at=timezone.now(), attempts=1
    )
    answer_record(
        notice=theirs, kind="disputed", statement='=HYPERLINK("http://evil") <b>no</b>', via="link"
    )
    removal.refresh_from_db()
    return removal


def test_the_pack_holds_the_summary_notices_records_ledger_and_evidence(
    client, creator, answered_request, developer, other_developer, two_works
):
    client.force_login(creator)
    archive = _download(client, answered_request)
    names = set(archive.namelist())

    assert {
        "README.txt",
        "summary.html",
        "deliveries.csv",
        "answers.csv",
        "ledger.csv",
        "evidence/listing.png",
    } <= names
    for developer_slug in ("example-ai", "other-models"):
        for file in ("notice.txt", "notice.html", "works.csv", "works.json", "request.json"):
            assert f"notices/{developer_slug}/{file}" in names
    notice = Notice.objects.get(topic=answered_request.topic, developer=developer)
    assert archive.read("notices/example-ai/notice.txt").decode() == notice.text
    assert archive.read("evidence/listing.png") == _png()

    deliveries = _csv(archive, "deliveries.csv")
    assert len(deliveries) == 2
    delivered = next(row for row in deliveries if row["developer"] == "Example AI Ltd")
    assert delivered["status"] == "Delivered" and delivered["delivered_at"]
    assert delivered["attempts"] == "1" and delivered["identity_kind"] == "Message-ID"
    assert delivered["identity"] == message_id_for(notice.key, "legal@example-ai.example")

    (answer,) = _csv(archive, "answers.csv")
    assert answer["developer"] == "Example AI Ltd" and answer["kind"] == "Disputed"
    # Formula-safe: a statement that starts like a formula is kept as text.
    assert answer["statement"] == '\'=HYPERLINK("http://evil") <b>no</b>'

    summary = archive.read("summary.html").decode()
    assert "<script>alert" not in summary and "<img src=x" not in summary
    assert "&lt;script&gt;alert(&#x27;pack&#x27;)&lt;/script&gt;" in summary
    assert "&lt;b&gt;no&lt;/b&gt;" in summary
    assert "The Lighthouse" in summary and "Salt and Signal" in summary
    assert "states in good faith" in summary and "Disputed" in summary
    assert "Example AI Ltd: Disputed" in summary and "Other Models Inc: Sent" in summary


def test_the_ledger_holds_their_entries_about_these_works_and_each_one_checks(
    client, creator, answered_request, two_works
):
    other_work = factories.WorkFactory(owner=creator, title="Not in the request")
    consent_services.override_set(actor=creator, work=two_works[0], choices={"train-ai": "deny"})
    consent_services.override_set(actor=creator, work=other_work, choices={"train-ai": "allow"})
    consent_services.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    services.deny_overrides_record(actor=creator, request=answered_request)
    client.force_login(creator)

    rows = _csv(_download(client, answered_request), "ledger.csv")

    actions = [row["action"] for row in rows]
    # Their other work's entry is left out; their defaults apply to every work, so they are in;
    # one entry per use the request's asks map to (cease, datasets: three uses).
    assert actions == ["override.set", "default.set", "bulk.apply", "bulk.apply", "bulk.apply"]
    assert all(other_work.public_id not in row["canonical"] for row in rows)
    for row in rows:
        digest = hashlib.sha256(f"{row['prev_hash']}\n{row['canonical']}".encode()).hexdigest()
        assert digest == row["hash"]
        assert json.loads(row["canonical"])["seq"] == int(row["seq"])


def test_a_draft_has_a_pack_too(client, creator, make_request):
    removal = make_request(submit=False)
    client.force_login(creator)

    archive = _download(client, removal)

    assert not [n for n in archive.namelist() if n.startswith("notices/")]
    assert len(_csv(archive, "deliveries.csv")) == 0
    assert "My novels" in archive.read("summary.html").decode()


@pytest.mark.parametrize("who", ["other_creator", "guild_staff", "superuser", "charlie"])
def test_nobody_else_downloads_their_pack(client, answered_request, who, request):
    client.force_login(request.getfixturevalue(who))

    response = client.get(reverse("removals:evidence-pack", args=[answered_request.pk]))

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_staff_who_filed_under_their_mandate_download_it(
    client, creator, guild_staff, wggb, developer
):
    Mandate.objects.create(creator=creator, guild=wggb)
    removal = services.draft_create(actor=guild_staff, creator=creator, title="Filed for them")
    client.force_login(guild_staff)

    archive = _download(client, removal)

    assert "Filed for them" in archive.read("summary.html").decode()
    assert "under the creator's mandate" in archive.read("summary.html").decode()


def _pdf(text: str) -> bytes:
    return f"%PDF-1.4\n% {text}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".encode()


def test_files_staff_attached_to_answers_are_in_the_pack_and_named_in_answers_csv(
    client, creator, answered_request, developer, other_developer, registry_manager
):
    theirs = Notice.objects.get(
        topic=answered_request.topic, developer=other_developer, kind=Notice.Kind.NOTICE
    )
    answer_record(
        notice=theirs,
        kind="complied",
        statement="Their letter says the works were removed.",
        via="staff",
        user=registry_manager,
        received_by="A letter by post",
        attachments=[
            SimpleUploadedFile("../../letter.pdf", _pdf("first page"), "application/pdf"),
            SimpleUploadedFile("envelope.png", _png(), "image/png"),
        ],
    )
    answer_record(
        notice=theirs,
        kind="complied",
        statement="And a second letter, confirming it.",
        via="staff",
        user=registry_manager,
        received_by="Another letter",
        attachments=[SimpleUploadedFile("letter.pdf", _pdf("second letter"), "application/pdf")],
    )
    client.force_login(creator)

    archive = _download(client, answered_request)
    names = archive.namelist()

    folder = "answers/other-models"
    assert {f"{folder}/letter.pdf", f"{folder}/envelope.png", f"{folder}/letter-2.pdf"} <= set(
        names
    )
    assert not [n for n in names if ".." in n or n.startswith("/")]
    assert archive.read(f"{folder}/letter.pdf") == _pdf("first page")
    assert archive.read(f"{folder}/letter-2.pdf") == _pdf("second letter")
    assert archive.read(f"{folder}/envelope.png") == _png()
    assert not [n for n in names if n.startswith("answers/example-ai/")]  # it attached none

    rows = {row["statement"]: row for row in _csv(archive, "answers.csv")}
    first = rows["Their letter says the works were removed."]
    assert first["via"] == "Recorded by staff" and first["received_by"] == "A letter by post"
    assert first["attachments"] == f"{folder}/letter.pdf; {folder}/envelope.png"
    assert rows["And a second letter, confirming it."]["attachments"] == f"{folder}/letter-2.pdf"
    dispute = next(row for row in rows.values() if row["developer"] == "Example AI Ltd")
    assert dispute["attachments"] == ""
    assert "answers/" in archive.read("README.txt").decode()


def test_the_pack_is_built_from_files_in_the_bucket(bucket_storage, client, creator, make_request):
    """Their evidence in the S3-compatible bucket (moto over HTTP): the pack holds its exact
    bytes, read from the bucket's response body."""
    removal = make_request(submit=False)
    photo = _png()
    evidence = services.evidence_add(
        actor=creator,
        request=removal,
        upload=SimpleUploadedFile("listing.png", photo, content_type="image/png"),
        note="Books3 index",
    )
    key = bucket_storage.key(evidence.file.name)
    assert key.startswith(bucket_storage.location + "/removals/")
    client.force_login(creator)

    archive = _download(client, removal)

    assert archive.read("evidence/listing.png") == photo


def test_the_pack_shows_a_contested_complied_its_reason_and_the_follow_up(
    client, creator, guild_staff, make_request, other_developer
):
    from removals import contests

    removal = make_request()
    first, second = services.request_approve(actor=guild_staff, request=removal)
    complied, _ = answer_record(notice=first, kind="complied", statement="Gone.", via="link")
    contests.compliance_contest(
        actor=creator, contest=complied.compliance_contest, reason="=Still <b>there</b>."
    )
    contests.compliance_ask_again(actor=guild_staff, contest=complied.compliance_contest)
    client.force_login(creator)
    archive = _download(client, removal)

    (row,) = _csv(archive, "contests.csv")
    assert row["developer"] == "Example AI Ltd" and row["statement"] == "Gone."
    assert row["state"] == "Contested — developer asked again"
    assert row["reason"] == "'=Still <b>there</b>."  # formula-safe
    assert row["follow_up_notice"] == "follow-up-1" and row["asked_again_at"]
    assert "notices/example-ai/follow-up-1.txt" in archive.namelist()
    summary = archive.read("summary.html").decode()
    assert "Compliance contested" in summary and "Developer asked again" in summary
    assert "=Still &lt;b&gt;there&lt;/b&gt;." in summary and "<b>there" not in summary
    assert "contests.csv" in archive.read("README.txt").decode()
