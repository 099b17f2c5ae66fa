"""ZIP imports of real archives built by the tests with ``zipfile``: each file becomes a work
through the single-upload pipeline (type by content, limits, SHA-256, thumbnail), described by
an optional metadata CSV; hostile entries — a zip bomb, ``../`` and absolute paths, archives
inside the archive, encrypted or disguised files — are refused one by one, without being
unpacked, and an archive with too many entries is refused whole."""

import csv
import hashlib
import io
import random
import struct
import time
import zipfile
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files import File
from django.urls import reverse

from tests.works import files
from works import imports
from works.models import ImportJob, Work, WorkFile

MB = 1024 * 1024


def make_archive(path: Path, entries: dict[str, bytes | Path]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            data = content.read_bytes() if isinstance(content, Path) else content
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def metadata_csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


@pytest.fixture
def media(tmp_path):
    """Real files of three families."""
    return {
        "jpeg": files.make_jpeg(tmp_path / "dawn.jpg", size=(900, 600), seed=5),
        "pdf": files.make_pdf(tmp_path / "book.pdf", text="The Quiet Harbour"),
        "wav": files.make_wav(tmp_path / "song.wav", seconds=0.5),
    }


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    def _run(owner, path):
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            job = imports.job_create(owner=owner, upload=File(handle, name=path.name))
        job.refresh_from_db()
        return job

    return _run


def report(job) -> list[tuple]:
    return list(imports.report_rows(job))[1:]


def test_each_file_becomes_a_work_described_by_the_metadata(run_import, creator, media, tmp_path):
    archive = make_archive(
        tmp_path / "catalogue.zip",
        {
            "photos/": b"",
            "photos/dawn.jpg": media["jpeg"],
            "book.pdf": media["pdf"],
            "audio/song.wav": media["wav"],
            "__MACOSX/photos/._dawn.jpg": b"\x00\x05\x16\x07junk",
            ".DS_Store": b"\x00\x00\x00\x01Bud1",
            "metadata.csv": metadata_csv(
                [
                    ["file", "title", "kind", "year", "isbn"],
                    ["photos/dawn.jpg", "Harbour at Dawn", "", "2018", ""],
                    ["book.pdf", "The Quiet Harbour", "book", "2019", "978-0-306-40615-7"],
                ]
            ),
        },
    )
    job = run_import(creator, archive)

    assert job.kind == ImportJob.Kind.ZIP
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.total_rows, job.processed_rows) == (3, 3)
    assert (job.created_count, job.matched_count, job.error_count) == (3, 0, 0)
    assert report(job) == []

    dawn = Work.objects.get(owner=creator, title="Harbour at Dawn")
    assert (dawn.kind, dawn.year) == ("photograph", 2018)  # kind from the family
    assert dawn.file.sha256 == hashlib.sha256(media["jpeg"].read_bytes()).hexdigest()
    assert dawn.file.original_name == "dawn.jpg"
    assert dawn.file.status == WorkFile.Status.READY  # fingerprinted by the image worker
    assert dawn.file.thumbnail and dawn.file.phash is not None

    book = Work.objects.get(owner=creator, title="The Quiet Harbour")
    assert (book.kind, book.file.format) == ("book", "pdf")
    assert list(book.identifiers.values_list("value", flat=True)) == ["9780306406157"]

    song = Work.objects.get(owner=creator, title="song")  # no metadata row: the file's name
    assert (song.kind, song.file.family) == ("recording", "audio")
    assert not job.source  # the archive is not kept once imported


def test_reimporting_the_same_archive_creates_no_duplicates(run_import, creator, media, tmp_path):
    archive = make_archive(
        tmp_path / "again.zip",
        {"dawn.jpg": media["jpeg"], "book.pdf": media["pdf"], "copy/dawn.jpg": media["jpeg"]},
    )
    first = run_import(creator, archive)
    assert (first.created_count, first.matched_count) == (2, 1)  # the copy is the same file
    second = run_import(creator, archive)
    assert (second.created_count, second.matched_count, second.error_count) == (0, 3, 0)
    assert Work.objects.filter(owner=creator).count() == 2
    assert WorkFile.objects.count() == 2


def test_a_work_registered_without_a_file_gets_its_file_from_the_archive(
    run_import, creator, work, media, tmp_path
):
    """The novel (ISBN 978-0-306-40615-7) was registered by hand or by CSV, with no file."""
    archive = make_archive(
        tmp_path / "files.zip",
        {
            "harbour.pdf": media["pdf"],
            "metadata.csv": metadata_csv([["file", "isbn"], ["harbour.pdf", "9780306406157"]]),
        },
    )
    job = run_import(creator, archive)
    assert (job.created_count, job.matched_count) == (0, 1)
    work.refresh_from_db()
    assert work.file.original_name == "harbour.pdf"
    assert Work.objects.filter(owner=creator).count() == 1


def _set_encrypted_flag(path: Path, name: str) -> None:
    """Mark an entry as encrypted (zipfile cannot write encrypted entries), in both headers."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = data.find(signature)
        while at >= 0:
            if data[at + name_at : at + name_at + len(encoded)] == encoded:
                (flags,) = struct.unpack_from("<H", data, at + flag_at)
                struct.pack_into("<H", data, at + flag_at, flags | 0x1)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))


def _zeros_entry(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """``size`` bytes of zeros, compressed, written in 1 MiB pieces (never all in memory)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w") as out:
        for _ in range(size // MB):
            out.write(bytes(MB))


def test_hostile_entries_are_refused_one_by_one_without_being_unpacked(
    run_import, creator, media, tmp_path, settings
):
    settings.WORKS_MAX_BYTES = {**settings.WORKS_MAX_BYTES, "text": 2 * MB}
    unpacked = tmp_path / "unpacking"
    unpacked.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(unpacked)
    inner = files.make_zip(tmp_path / "inner.zip")
    cover = files.make_jpeg(tmp_path / "cover.jpg", size=(300, 200), seed=9)
    path = tmp_path / "hostile.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("dawn.jpg", media["jpeg"].read_bytes())  # 1
        _zeros_entry(archive, "bomb.txt", 200 * MB)  # 2
        archive.writestr(zipfile.ZipInfo("../evil.txt"), b"escaped\n")  # 3
        archive.writestr(zipfile.ZipInfo("/etc/x.txt"), b"root\n")  # 4
        archive.writestr(zipfile.ZipInfo("C:/Windows/x.txt"), b"drive\n")  # 5
        archive.writestr("inner.zip", inner.read_bytes())  # 6
        archive.writestr("innocent.dat", inner.read_bytes())  # 7: a ZIP by its content
        archive.writestr("cover.pdf", cover.read_bytes())  # 8: a JPEG named .pdf
        archive.writestr("secret.txt", b"password protected\n")  # 9
        archive.writestr("notes/prices.csv", b"title,price\nA,1\n")  # 10
        archive.writestr("empty.txt", b"")  # 11
    _set_encrypted_flag(path, "secret.txt")
    assert path.stat().st_size < 2 * MB

    started = time.monotonic()
    job = run_import(creator, path)
    elapsed = time.monotonic() - started

    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.total_rows, job.created_count, job.error_count) == (11, 1, 10)
    assert list(Work.objects.values_list("title", flat=True)) == ["dawn"]
    rows = report(job)
    assert [(row, column) for row, column, _ in rows] == [
        (2, "bomb.txt"),
        (3, "../evil.txt"),
        (4, "/etc/x.txt"),
        (5, "C:/Windows/x.txt"),
        (6, "inner.zip"),
        (7, "innocent.dat"),
        (8, "cover.pdf"),
        (9, "secret.txt"),
        (10, "notes/prices.csv"),
        (11, "empty.txt"),
    ]
    messages = {column: message for _, column, message in rows}
    assert messages["bomb.txt"].startswith("Refused: this entry unpacks to 200.0\xa0MB from ")
    assert "zip bombs" in messages["bomb.txt"]
    outside = (
        "Refused: this path points outside the archive (an absolute path, a drive letter or “..”)."
    )
    assert messages["../evil.txt"] == outside
    assert messages["/etc/x.txt"] == outside
    assert messages["C:/Windows/x.txt"] == outside
    nested = "Refused: archives inside the archive are not imported. Unpack it and add its files."
    assert messages["inner.zip"] == nested
    assert messages["innocent.dat"] == nested
    assert messages["cover.pdf"] == (
        "This file is named like a PDF document (.pdf) but its content is a JPEG image."
    )
    assert messages["secret.txt"].startswith("Refused: this entry is encrypted.")
    assert messages["notes/prices.csv"].startswith("Not imported: a CSV file is read only as")
    assert messages["empty.txt"] == "This file is empty."
    # Nothing was unpacked outside the temporary folder, which is empty again; the bomb was
    # refused from its declared sizes, not by unpacking 200 MB.
    assert not Path("/etc/x.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert list(unpacked.iterdir()) == []
    assert elapsed < 30


def test_an_entry_that_lies_about_its_size_is_stopped_while_unpacking(
    run_import, creator, tmp_path, settings
):
    settings.WORKS_MAX_BYTES = {**settings.WORKS_MAX_BYTES, "text": 1 * MB}
    unpacked = tmp_path / "unpacking"
    unpacked.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(unpacked)
    letters = bytes(b"abcdefgh \n"[i % 10] for i in range(256))
    text = random.Random(1).randbytes(3 * MB).translate(letters)  # compresses only ~2:1
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("long.txt", text)
    # Declare 100 KB instead of 3 MB in both headers.
    data = bytearray(path.read_bytes())
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        struct.pack_into("<I", data, at + size_at, 100 * 1024)
    path.write_bytes(bytes(data))

    job = run_import(creator, path)
    assert (job.created_count, job.error_count) == (0, 1)
    [(row, column, message)] = report(job)
    assert (row, column) == (1, "long.txt")
    assert message.startswith("This entry is damaged and could not be unpacked")
    assert list(unpacked.iterdir()) == []


def test_an_archive_with_too_many_entries_is_refused_whole(run_import, creator, tmp_path, settings):
    settings.WORKS_ZIP_MAX_ENTRIES = 3
    archive = make_archive(
        tmp_path / "many.zip", {f"poem-{n}.txt": f"Poem {n}\n".encode() for n in range(4)}
    )
    job = run_import(creator, archive)
    assert job.status == ImportJob.Status.FAILED
    assert job.error == (
        "This archive has 4 entries: an import takes at most 3. Split it into several archives "
        "and import each."
    )
    assert not Work.objects.exists()


def test_metadata_problems_are_reported_against_the_entries(run_import, creator, media, tmp_path):
    archive = make_archive(
        tmp_path / "meta.zip",
        {
            "dawn.jpg": media["jpeg"],
            "book.pdf": media["pdf"],
            "metadata.csv": metadata_csv(
                [
                    ["file", "title", "isbn", "colour"],
                    ["dawn.jpg", "Dawn", ""],
                    ["book.pdf", "Book", "978-0-306-40615-8"],
                    ["missing.jpg", "Gone", ""],
                ]
            ),
        },
    )
    job = run_import(creator, archive)
    assert (job.created_count, job.error_count) == (1, 1)
    assert report(job) == [
        (
            2,
            "book.pdf",
            "metadata row 3, isbn: “978-0-306-40615-8”: This ISBN's check digit does "
            "not match: please check it for a typing mistake.",
        ),
        (3, "metadata.csv", "Row 1: the column “colour” is not one we import; ignored."),
        (3, "metadata.csv", "Row 4: there is no file “missing.jpg” in the archive."),
    ]


def test_the_storage_allowance_applies_to_the_files_together(
    run_import, creator, media, tmp_path, settings
):
    jpeg, pdf = media["jpeg"].stat().st_size, media["pdf"].stat().st_size
    settings.WORKS_STORAGE_QUOTA = jpeg + pdf // 2
    archive = make_archive(tmp_path / "full.zip", {"a.jpg": media["jpeg"], "b.pdf": media["pdf"]})
    job = run_import(creator, archive)
    assert (job.created_count, job.error_count) == (1, 1)
    [(row, column, message)] = report(job)
    assert (row, column) == (2, "b.pdf")
    assert message.startswith("This file would take you over your storage allowance")


def test_another_creator_cannot_see_a_zip_import(
    run_import, creator, other_creator, media, client, tmp_path
):
    job = run_import(creator, make_archive(tmp_path / "mine.zip", {"a.jpg": media["jpeg"]}))
    client.force_login(other_creator)
    for name in ("import-detail", "import-progress", "import-errors"):
        assert client.get(reverse(f"works:{name}", args=[job.pk])).status_code == (
            HTTPStatus.NOT_FOUND
        )
    page = client.get(reverse("works:import-list")).content.decode()
    assert "mine.zip" not in page


def test_metadata_in_the_archives_top_folder_in_windows_1252_with_semicolons(
    run_import, creator, media, tmp_path
):
    """As Finder's "Compress" and Excel on Windows make them."""
    metadata = "file;title;kind\r\nphoto.jpg;Café à l’aube;artwork\r\n".encode("cp1252")
    archive = make_archive(
        tmp_path / "Shoot.zip",
        {"Shoot/": b"", "Shoot/photo.jpg": media["jpeg"], "Shoot/metadata.csv": metadata},
    )
    job = run_import(creator, archive)
    assert (job.total_rows, job.created_count, job.error_count) == (1, 1, 0)
    assert Work.objects.get().title == "Café à l’aube"
    assert Work.objects.get().kind == "artwork"
