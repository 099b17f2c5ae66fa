"""What one ZIP import may unpack: archives whose entries share or overlap their data are
refused whole before anything is unpacked; each import has a budget of entries
(``WORKS_ZIP_MAX_ENTRIES``) and of unpacked bytes (``WORKS_ZIP_MAX_UNPACKED_BYTES``, and never
more than their remaining storage allowance plus the files the archive matches) — counted for files
they already stored too — and reaching it stops the import with a message on its page. Hostile
archives are built here byte by byte with ``struct``."""

import random
import struct
import zipfile
import zlib
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files import File
from django.urls import reverse

from tests.works import files
from works import imports, services
from works.models import ImportJob, Work

SHARED = (
    "This archive is refused: some of its entries share or overlap their data, as zip bombs "
    "built to unpack the same bytes again and again do. Make the archive again with an ordinary "
    "ZIP tool and import it."
)


@pytest.fixture
def unpacking(tmp_path, settings):
    folder = tmp_path / "unpacking"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    def _run(owner, path):
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            job = imports.job_create(owner=owner, upload=File(handle, name=path.name))
        job.refresh_from_db()
        return job

    return _run


def poem(n: int, size: int = 20_000) -> bytes:
    """Distinct UTF-8 text of ``size`` bytes that deflate does not shrink to nothing."""
    rng = random.Random(n)
    words = ["harbour", "tide", "salt", "gull", "lantern", "rope", "keel", "dawn", "\n"]
    text = " ".join(rng.choice(words) for _ in range(size)).encode()
    return text[:size]


def make_archive(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


# --- Raw archives ------------------------------------------------------------------------------


def local_record(name: bytes, data: bytes) -> bytes:
    """A stored (uncompressed) entry's local header and data."""
    crc = zlib.crc32(data)
    header = struct.pack(
        "<4s5H3I2H", b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, len(data), len(data), len(name), 0
    )
    return header + name + data


def central_record(name: bytes, data: bytes, offset: int) -> bytes:
    crc = zlib.crc32(data)
    header = struct.pack(
        "<4s6H3I5HII",
        b"PK\x01\x02",
        20,
        20,
        0,
        0,
        0,
        0x21,
        crc,
        len(data),
        len(data),
        len(name),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    return header + name


def raw_archive(path: Path, body: bytes, directory: list[bytes]) -> Path:
    table = b"".join(directory)
    end = struct.pack(
        "<4s4H2IH", b"PK\x05\x06", 0, 0, len(directory), len(directory), len(table), len(body), 0
    )
    path.write_bytes(body + table + end)
    return path


def test_entries_pointing_at_the_same_data_refuse_the_whole_archive(
    run_import, creator, tmp_path, unpacking
):
    """50 entries of the table of contents, one piece of data: unpacked 50 times before."""
    data = poem(1)
    body = local_record(b"poem.txt", data)
    directory = [central_record(b"poem.txt", data, 0) for _ in range(50)]
    path = raw_archive(tmp_path / "same.zip", body, directory)
    assert len(zipfile.ZipFile(path).infolist()) == 50

    job = run_import(creator, path)

    assert job.status == ImportJob.Status.FAILED
    assert job.error == SHARED
    assert not Work.objects.exists() and job.processed_rows == 0
    assert list(unpacking.iterdir()) == []


def test_an_entry_inside_another_entrys_data_refuses_the_whole_archive(
    run_import, creator, tmp_path, unpacking
):
    inner = poem(2)
    wrapper = local_record(b"inner.txt", inner) + b"\nthe rest of the cover\n"
    body = local_record(b"cover.bin", wrapper)
    directory = [
        central_record(b"cover.bin", wrapper, 0),
        central_record(b"inner.txt", inner, 30 + len(b"cover.bin")),
    ]
    path = raw_archive(tmp_path / "nested.zip", body, directory)

    job = run_import(creator, path)

    assert job.status == ImportJob.Status.FAILED
    assert job.error == SHARED
    assert not Work.objects.exists()


def test_an_ordinary_archive_of_stored_and_deflated_entries_is_not_refused(
    run_import, creator, tmp_path
):
    path = tmp_path / "plain.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", poem(3), compress_type=zipfile.ZIP_STORED)
        archive.writestr("b.txt", poem(4), compress_type=zipfile.ZIP_DEFLATED)
        with archive.open("c.txt", "w") as out:  # streamed: sizes in a data descriptor
            out.write(poem(5))
    job = run_import(creator, path)
    assert job.status == ImportJob.Status.DONE, job.error
    assert job.created_count == 3


def test_an_archive_with_more_entries_than_the_budget_is_refused_whole(
    run_import, creator, tmp_path, settings
):
    settings.WORKS_ZIP_MAX_ENTRIES = 3
    path = make_archive(tmp_path / "many.zip", {f"poem-{n}.txt": poem(n, 100) for n in range(4)})
    job = run_import(creator, path)
    assert job.status == ImportJob.Status.FAILED
    assert job.error == (
        "This archive has 4 entries: an import takes at most 3. Split it into several archives "
        "and import each."
    )
    assert not Work.objects.exists()


def test_an_import_stops_when_it_has_unpacked_its_budget(
    run_import, creator, tmp_path, settings, client
):
    settings.WORKS_ZIP_MAX_UNPACKED_BYTES = 50_000
    path = make_archive(tmp_path / "four.zip", {f"poem-{n}.txt": poem(n) for n in range(4)})

    job = run_import(creator, path)

    assert job.status == ImportJob.Status.FAILED
    assert job.error == (
        "The import stopped at entry 3 (poem-2.txt): an import unpacks at most 48.8\xa0KB, and "
        "this archive unpacks to more. The 2 files before it are done. Split the archive and "
        "import the rest."
    )
    assert (job.processed_rows, job.created_count) == (2, 2)
    assert sorted(Work.objects.values_list("title", flat=True)) == ["poem-0", "poem-1"]
    client.force_login(creator)
    page = client.get(reverse("works:import-detail", args=[job.pk]))
    assert page.status_code == HTTPStatus.OK
    assert "an import unpacks at most 48.8\xa0KB" in page.content.decode()


def test_files_the_creator_already_stored_count_against_the_unpacked_budget(
    run_import, creator, tmp_path, settings
):
    """Matching a file unpacks it whole to hash it: the same 20 KB stored as 40 entries (each
    its own data, so not refused as shared) would be unpacked 40 times."""
    same = poem(7)
    assert run_import(creator, make_archive(tmp_path / "one.zip", {"p.txt": same})).created_count
    settings.WORKS_ZIP_MAX_UNPACKED_BYTES = 50_000
    path = make_archive(tmp_path / "copies.zip", {f"copy-{n}.txt": same for n in range(40)})

    job = run_import(creator, path)

    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("The import stopped at entry 3 (copy-2.txt): an import unpacks")
    assert (job.processed_rows, job.matched_count) == (2, 2)


def test_refused_files_use_up_what_their_remaining_storage_lets_an_import_unpack(
    run_import, creator, tmp_path, settings
):
    """JPEGs named .pdf are unpacked whole before being refused: none is stored, so their quota
    alone would never stop them."""
    jpeg = files.make_jpeg(tmp_path / "p.jpg", size=(300, 200), seed=3).read_bytes()
    settings.WORKS_STORAGE_QUOTA = int(len(jpeg) * 2.5)
    path = make_archive(tmp_path / "disguised.zip", {f"scan-{n}.pdf": jpeg for n in range(5)})

    job = run_import(creator, path)

    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith(
        "The import stopped at entry 3 (scan-2.pdf): an import unpacks no more than your "
        "remaining storage allowance"
    )
    assert (job.processed_rows, job.error_count, job.created_count) == (2, 2, 0)


def test_a_creator_whose_storage_is_full_can_reimport_their_archive(
    run_import, creator, tmp_path, settings
):
    """What the archive matches is within the budget: only new files need space."""
    entries = {"a.txt": poem(8), "b.txt": poem(9)}
    first = run_import(creator, make_archive(tmp_path / "mine.zip", entries))
    assert first.created_count == 2
    settings.WORKS_STORAGE_QUOTA = services.storage_used(user=creator)
    path = make_archive(tmp_path / "again.zip", {**entries, "new.txt": poem(10, 15_000)})

    job = run_import(creator, path)

    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.matched_count, job.created_count, job.error_count) == (2, 0, 1)
    [(row, column, message)] = list(imports.report_rows(job))[1:]
    assert (row, column) == (3, "new.txt")
    assert message == (
        "This file would take you over your storage allowance: you have 0\xa0bytes left."
    )


def test_a_file_unpacked_only_because_it_might_have_been_stored_before_stops_the_import(
    run_import, creator, tmp_path, settings
):
    """Past the budget, an entry is unpacked only if one of their files has exactly its size (it
    may be that file); if it is not, the budget was passed and the import stops there."""
    first = run_import(creator, make_archive(tmp_path / "mine.zip", {"a.txt": poem(8)}))
    assert first.created_count == 1
    settings.WORKS_STORAGE_QUOTA = services.storage_used(user=creator)
    path = make_archive(tmp_path / "lookalike.zip", {"same-size.txt": poem(11), "a.txt": poem(8)})

    job = run_import(creator, path)

    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith(
        "The import stopped at entry 1 (same-size.txt): an import unpacks no more than your "
        "remaining storage allowance (0\xa0bytes)"
    )
    assert "Nothing was imported." in job.error
    assert Work.objects.count() == 1 and job.processed_rows == 0
