"""Uploads through the real views and the streaming vetting handler, with real files made by
the tests: the right files are kept with their SHA-256, fingerprint and thumbnail; hostile or
broken ones are refused with a reason and leave nothing behind."""

import hashlib
import shutil
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from tests.storage import download, stored_names
from tests.works import files
from works.models import Work, WorkFile


@pytest.fixture
def upload(client, creator, tmp_path, django_capture_on_commit_callbacks):
    """``upload(path, **fields)`` registers a new work with that file, as the creator."""
    client.force_login(creator)

    def _upload(path: Path, name: str | None = None, **fields):
        data = {
            "title": fields.pop("title", "Uploaded work"),
            "kind": fields.pop("kind", "photograph"),
            **fields,
        }
        if name:  # the browser sends the file's own name: give it the disguise
            path = Path(shutil.copy(path, path.with_name(name)))
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            data["file"] = handle
            return client.post(reverse("works:create"), data)

    return _upload


def stored_files(settings) -> list[str]:
    return stored_names("")


def assert_refused(response, message, settings):
    assert response.status_code == HTTPStatus.OK, response.status_code
    page = response.content.decode()
    assert message in page, page[page.find("errorlist") - 200 : page.find("errorlist") + 400]
    assert not Work.objects.exists()
    assert stored_files(settings) == []


def test_a_photograph_is_kept_fingerprinted_and_thumbnailed(upload, tmp_path, client):
    path = files.make_jpeg(tmp_path / "harbour.jpg", size=(1600, 1000), seed=3)
    response = upload(path)
    assert response.status_code == HTTPStatus.FOUND
    work_file = WorkFile.objects.get()
    assert work_file.status == WorkFile.Status.READY
    assert work_file.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (work_file.family, work_file.format, work_file.mime) == ("image", "jpeg", "image/jpeg")
    assert (work_file.width, work_file.height) == (1600, 1000)
    assert work_file.phash is not None
    thumb = client.get(reverse("works:thumbnail", args=[work_file.work.public_id]))
    assert thumb["Content-Type"] == "image/jpeg"
    with Image.open(__import__("io").BytesIO(b"".join(thumb.streaming_content))) as image:
        assert max(image.size) == 480
    assert work_file.original_name == "harbour.jpg"
    assert "harbour" not in work_file.original.name  # stored under a random name


@pytest.mark.parametrize(
    ("maker", "family", "fmt"),
    [
        (lambda p: files.make_png(p / "a.png"), "image", "png"),
        (lambda p: files.make_webp(p / "a.webp"), "image", "webp"),
        (lambda p: files.make_gif(p / "a.gif", frames=3), "image", "gif"),
        (lambda p: files.make_tiff(p / "a.tiff", bits=16), "image", "tiff"),
        (lambda p: files.make_pdf(p / "a.pdf"), "text", "pdf"),
        (lambda p: files.make_epub(p / "a.epub"), "text", "epub"),
        (lambda p: files.make_docx(p / "a.docx"), "text", "docx"),
        (lambda p: files.make_txt(p / "a.txt"), "text", "txt"),
        (lambda p: files.make_wav(p / "a.wav", bits=24), "audio", "wav"),
        (lambda p: files.make_flac(p / "a.flac"), "audio", "flac"),
        (lambda p: files.make_mp3(p / "a.mp3"), "audio", "mp3"),
        (lambda p: files.make_mp4(p / "a.mp4"), "video", "mp4"),
    ],
)
def test_every_accepted_format_is_kept(upload, tmp_path, maker, family, fmt):
    path = maker(tmp_path)
    response = upload(path)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:3000]
    work_file = WorkFile.objects.get()
    assert (work_file.family, work_file.format, work_file.status) == (family, fmt, "ready")
    assert work_file.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_html_named_jpg_is_refused(upload, tmp_path, settings):
    path = files.make_html(tmp_path / "page.html")
    assert_refused(upload(path, name="holiday.jpg"), "web page", settings)


def test_svg_with_a_script_is_refused(upload, tmp_path, settings):
    assert_refused(
        upload(files.make_svg(tmp_path / "logo.svg")), "SVG images are not accepted", settings
    )


def test_a_pdf_named_like_a_jpeg_is_refused_as_disguised(upload, tmp_path, settings):
    path = files.make_pdf(tmp_path / "doc.pdf")
    assert_refused(upload(path, name="photo.jpg"), "named like", settings)


def test_truncated_jpeg_is_refused(upload, tmp_path, settings):
    path = files.truncate(files.make_jpeg(tmp_path / "cut.jpg", size=(900, 600)))
    assert_refused(upload(path), "truncated", settings)


def test_decompression_bomb_is_refused_before_decoding(upload, tmp_path, settings):
    path = files.make_png_bomb(tmp_path / "bomb.png")
    assert path.stat().st_size < 200_000
    assert_refused(upload(path), "megapixels", settings)


def test_empty_file_is_refused(upload, tmp_path, settings):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    response = upload(path)
    assert response.status_code == HTTPStatus.OK
    assert not Work.objects.exists() and stored_files(settings) == []


def test_random_bytes_are_refused(upload, tmp_path, settings):
    path = tmp_path / "noise.bin"
    path.write_bytes(bytes(range(256)) * 64)
    assert_refused(upload(path), "not supported", settings)


def test_a_file_over_its_familys_limit_is_refused_while_streaming(upload, tmp_path, settings):
    settings.WORKS_MAX_BYTES = {**settings.WORKS_MAX_BYTES, "image": 50_000}
    path = files.make_jpeg(tmp_path / "big.jpg", size=(1600, 1200), seed=5)
    assert path.stat().st_size > 50_000
    assert_refused(upload(path), "too large", settings)


def test_the_storage_quota_is_enforced(upload, tmp_path, settings):
    settings.WORKS_STORAGE_QUOTA = 10_000
    path = files.make_pdf(tmp_path / "a.pdf")
    path.write_bytes(path.read_bytes() + b"%" + b" " * 20_000 + b"\n%%EOF\n")
    assert_refused(upload(path), "storage allowance", settings)


def test_uploads_are_rate_limited(upload, tmp_path, settings):
    settings.WORKS_UPLOADS_PER_HOUR = 2
    # Different files: the same file twice is said to be a possible duplicate (issue 19).
    texts = [files.make_txt(tmp_path / f"{n}.txt", text=f"Poem {n}") for n in range(3)]
    assert upload(texts[0], title="one").status_code == HTTPStatus.FOUND
    assert upload(texts[1], title="two").status_code == HTTPStatus.FOUND
    response = upload(texts[2], title="three")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert Work.objects.count() == 2


def test_an_image_that_fails_to_decode_in_the_worker_is_removed_with_its_reason(
    upload, tmp_path, client
):
    """A PNG whose image data is cut short but which still ends properly passes the cheap
    checks at upload; decoding it in full (the worker's job) finds the damage."""
    good = files.make_png(tmp_path / "good.png", size=(800, 600), seed=9).read_bytes()
    iend = good.rfind(b"IEND") - 4
    broken = tmp_path / "broken.png"
    broken.write_bytes(good[: iend // 2] + good[iend:])
    response = upload(broken)
    assert response.status_code == HTTPStatus.FOUND
    work_file = WorkFile.objects.get()
    assert work_file.status == WorkFile.Status.FAILED
    assert "damaged" in work_file.error or "truncated" in work_file.error
    assert not work_file.original and not work_file.sha256
    assert [p for p in Path(default_storage.location).rglob("*") if p.is_file()] == []
    page = client.get(work_file.work.get_absolute_url()).content.decode()
    assert work_file.error.split(":")[0] in page


def test_replacing_a_file_removes_the_old_one(
    upload, tmp_path, client, creator, django_capture_on_commit_callbacks
):
    upload(files.make_pdf(tmp_path / "first.pdf"))
    work = Work.objects.get()
    first = work.file.original.name
    with (
        open(files.make_txt(tmp_path / "second.txt"), "rb") as handle,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("works:file-upload", args=[work.public_id]), {"file": handle}
        )
    assert response.status_code == HTTPStatus.FOUND
    work.refresh_from_db()
    assert work.file.format == "txt"
    assert not default_storage.exists(first)


def test_a_refused_replacement_keeps_the_old_file(upload, tmp_path, client):
    upload(files.make_pdf(tmp_path / "first.pdf"))
    work = Work.objects.get()
    with open(files.make_svg(tmp_path / "x.svg"), "rb") as handle:
        response = client.post(
            reverse("works:file-upload", args=[work.public_id]), {"file": handle}
        )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "SVG" in response.content.decode()
    work.refresh_from_db()
    assert work.file.format == "pdf" and default_storage.exists(work.file.original.name)


def test_the_sweep_processes_an_image_whose_message_was_lost(creator, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from works import services

    work = Work.objects.create(owner=creator, title="Lost message", kind="photograph")
    path = files.make_jpeg(tmp_path / "lost.jpg", size=(640, 480))
    work_file = WorkFile.objects.create(
        work=work,
        original_name="lost.jpg",
        size=path.stat().st_size,
        sha256="x",
        family="image",
        format="jpeg",
        mime="image/jpeg",
        uploaded_at=timezone.now() - timezone.timedelta(hours=1),
    )
    work_file.original.save("lost.jpg", SimpleUploadedFile("lost.jpg", path.read_bytes()))
    settings.WORKS_PROCESSING_RETRY_AFTER = 60
    assert services.work_files_sweep() == 1  # eager in tests: processed on the spot
    work_file.refresh_from_db()
    assert work_file.status == WorkFile.Status.READY and work_file.thumbnail


# --- Private originals -------------------------------------------------------------------------


@pytest.fixture
def work_with_pdf(upload, tmp_path):
    upload(files.make_pdf(tmp_path / "manuscript.pdf"), title="Manuscript", kind="book")
    return Work.objects.get()


def test_the_owner_downloads_their_original_as_an_attachment(client, work_with_pdf):
    got = download(client, reverse("works:original", args=[work_with_pdf.public_id]))
    assert got.status == HTTPStatus.OK
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="manuscript.pdf"' in got.headers["Content-Disposition"]
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.body == work_with_pdf.file.original.open("rb").read()
    if not got.via_bucket:  # a bucket's signed link cannot ask for it; the portal always does
        assert got.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("persona", "requested", "expected"),
    [
        ("other_creator", True, HTTPStatus.NOT_FOUND),
        ("guild_staff", False, HTTPStatus.NOT_FOUND),  # nothing to verify yet
        ("guild_staff", True, HTTPStatus.OK),
        ("other_guild_staff", True, HTTPStatus.NOT_FOUND),
        ("superuser", True, HTTPStatus.NOT_FOUND),
    ],
)
def test_who_else_may_download_an_original(
    client, request, work_with_pdf, persona, requested, expected
):
    from works import services

    if requested:
        services.claim_request(actor=work_with_pdf.owner, work=work_with_pdf, statement="mine")
    client.force_login(request.getfixturevalue(persona))
    got = download(client, reverse("works:original", args=[work_with_pdf.public_id]))
    assert got.status == expected


def test_evidence_files_are_vetted_and_private(
    client, creator, other_creator, work_with_pdf, tmp_path, settings
):
    url = reverse("works:claim-request", args=[work_with_pdf.public_id])
    disguised = shutil.copy(files.make_html(tmp_path / "contract.html"), tmp_path / "contract.pdf")
    with open(disguised, "rb") as handle:
        response = client.post(url, {"evidence": handle})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not work_with_pdf.evidence.exists()
    with open(files.make_pdf(tmp_path / "contract.pdf"), "rb") as handle:
        assert client.post(url, {"evidence": handle}).status_code == HTTPStatus.FOUND
    evidence = work_with_pdf.evidence.get()
    evidence_url = reverse("works:evidence", args=[work_with_pdf.public_id, evidence.pk])
    assert download(client, evidence_url).headers["Content-Disposition"].startswith("attachment;")
    client.force_login(other_creator)
    assert client.get(evidence_url).status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("padding", [64_000, 64_200, 64_400, 65_000])
def test_a_file_starting_at_the_end_of_a_read_is_typed_hashed_and_stored_whole(
    client, creator, tmp_path, padding
):
    """Fields sent before the file push its first bytes to the end of the parser's 64 KiB
    read, so its first chunk is a sliver of about 1 KB: the handler gathers its sniffing
    window across chunks, and what is stored and hashed is exactly what was sent."""
    client.force_login(creator)
    path = files.make_epub(tmp_path / "novel.epub")
    with open(path, "rb") as handle:
        response = client.post(
            reverse("works:create"),
            {"padding": "x" * padding, "title": "Novel", "kind": "book", "file": handle},
        )
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    work_file = WorkFile.objects.get()
    assert work_file.format == "epub"
    assert work_file.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert work_file.original.read() == path.read_bytes()


def _processing_file(creator, tmp_path, *, age_hours: float):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    work = Work.objects.create(owner=creator, title="Stuck", kind="photograph")
    path = files.make_jpeg(tmp_path / "stuck.jpg", size=(320, 240))
    work_file = WorkFile.objects.create(
        work=work,
        original_name="stuck.jpg",
        size=path.stat().st_size,
        sha256="x",
        family="image",
        format="jpeg",
        mime="image/jpeg",
        uploaded_at=timezone.now() - timezone.timedelta(hours=age_hours),
    )
    work_file.original.save("stuck.jpg", SimpleUploadedFile("stuck.jpg", path.read_bytes()))
    return work_file


def test_a_lost_original_is_refused_with_a_message_not_retried_forever(
    creator, tmp_path, django_capture_on_commit_callbacks
):
    from works import services

    work_file = _processing_file(creator, tmp_path, age_hours=0)
    default_storage.delete(work_file.original.name)
    with django_capture_on_commit_callbacks(execute=True):
        services.work_file_process(file_id=work_file.pk)
    work_file.refresh_from_db()
    assert work_file.status == WorkFile.Status.FAILED and "upload it again" in work_file.error


def test_the_sweep_gives_up_on_a_file_stuck_for_a_day(
    creator, tmp_path, settings, django_capture_on_commit_callbacks
):
    from works import services

    settings.WORKS_PROCESSING_GIVE_UP_AFTER = 3600
    work_file = _processing_file(creator, tmp_path, age_hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.work_files_sweep() == 0
    work_file.refresh_from_db()
    assert (
        work_file.status == WorkFile.Status.FAILED and "could not be processed" in work_file.error
    )
    assert not default_storage.exists("stuck.jpg") and stored_files(settings) == []


def test_evidence_files_count_in_the_storage_allowance(
    client, work_with_pdf, tmp_path, django_assert_max_num_queries
):
    from works import services

    before = services.storage_used(user=work_with_pdf.owner)
    path = files.make_pdf(tmp_path / "contract.pdf")
    with open(path, "rb") as handle:
        client.post(
            reverse("works:claim-request", args=[work_with_pdf.public_id]), {"evidence": handle}
        )
    with django_assert_max_num_queries(2):  # sums in SQL: no file read, whatever the count
        after = services.storage_used(user=work_with_pdf.owner)
    assert after - before == path.stat().st_size
