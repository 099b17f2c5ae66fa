"""One path for "a work gains identifiers": an existing work that gains an identifier from a
CSV import, from a ZIP import's metadata (whether the archive's file is the one they stored, a
work matched by an identifier, or a work whose file the archive brings) or from the edit form
goes through the same conflict detection — another creator's work holding that identifier
becomes a conflict for staff, recorded, audited and told to both creators the same way."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files import File
from django.utils import timezone

from accounts.models import AuditEvent
from tests.works import files
from tests.works.conflicting import register
from works import imports, services
from works.models import Conflict, ImportJob, Work

MINE = "9780306406157"  # the ISBN their work already has
THEIRS = "9781861972712"  # the ISBN another creator's (earlier) work holds


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def _zip(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def pdf(tmp_path):
    return files.make_pdf(tmp_path / "harbour.pdf", text="The Quiet Harbour")


@pytest.fixture
def theirs(other_creator):
    work = register(other_creator, "Theirs", isbn=THEIRS)
    Work.objects.filter(pk=work.pk).update(created_at=timezone.now() - timedelta(days=1))
    return work


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    def _run(owner, path):
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            job = imports.job_create(owner=owner, upload=File(handle, name=path.name))
        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE, job.error
        assert (job.created_count, job.matched_count, job.error_count) == (0, 1, 0)
        return job

    return _run


def _by_csv(creator, pdf, tmp_path, run_import):
    mine = register(creator, "The Quiet Harbour", isbn=MINE, upload_path=pdf)
    path = tmp_path / "more.csv"
    path.write_bytes(
        _csv([["title", "kind", "isbn"], ["Quiet Harbour", "book", f"{MINE} {THEIRS}"]])
    )
    run_import(creator, path)
    return mine


def _by_zip_same_file(creator, pdf, tmp_path, run_import):
    mine = register(creator, "The Quiet Harbour", upload_path=pdf)
    meta = _csv([["file", "isbn"], ["harbour.pdf", THEIRS]])
    run_import(creator, _zip(tmp_path / "a.zip", {"harbour.pdf": pdf.read_bytes(), "m.csv": meta}))
    return mine


def _by_zip_same_identifier(creator, pdf, tmp_path, run_import):
    mine = register(creator, "The Quiet Harbour", isbn=MINE, upload_path=pdf)
    other_pdf = files.make_pdf(tmp_path / "other.pdf", text="Another printing")
    meta = _csv([["file", "isbn"], ["other.pdf", f"{MINE}, {THEIRS}"]])
    run_import(
        creator, _zip(tmp_path / "b.zip", {"other.pdf": other_pdf.read_bytes(), "m.csv": meta})
    )
    return mine


def _by_zip_file_attached(creator, pdf, tmp_path, run_import):
    mine = register(creator, "The Quiet Harbour", isbn=MINE)  # no file yet
    meta = _csv([["file", "isbn"], ["harbour.pdf", f"{MINE} {THEIRS}"]])
    run_import(creator, _zip(tmp_path / "c.zip", {"harbour.pdf": pdf.read_bytes(), "m.csv": meta}))
    mine.refresh_from_db()
    assert mine.file.original_name == "harbour.pdf"
    return mine


@pytest.mark.parametrize(
    "gain",
    [_by_csv, _by_zip_same_file, _by_zip_same_identifier, _by_zip_file_attached],
    ids=["csv", "zip-same-file", "zip-same-identifier", "zip-file-attached"],
)
def test_an_existing_work_gaining_another_creators_isbn_by_import_is_a_conflict(
    gain, creator, other_creator, theirs, pdf, tmp_path, run_import, settings
):
    settings.WORKS_CONFLICT_EMAIL_INTERVAL = 0
    mail.outbox.clear()

    mine = gain(creator, pdf, tmp_path, run_import)

    assert mine.identifiers.filter(scheme="isbn", value=THEIRS).exists()
    conflict = Conflict.objects.get()
    assert (conflict.work_a, conflict.work_b) == (theirs, mine)
    assert conflict.matches == [{"kind": "isbn", "value": THEIRS}]
    assert conflict.status == Conflict.Status.OPEN
    opened = AuditEvent.objects.get(action="conflict.open", object_id=str(conflict.pk))
    assert opened.actor == creator
    assert {message.to[0] for message in mail.outbox} == {creator.email, other_creator.email}


def test_the_edit_form_detects_the_same_conflict(creator, other_creator, theirs):
    """The reference: editing the work to add the ISBN (``services.work_update``)."""
    mine = register(creator, "The Quiet Harbour", isbn=MINE)
    services.work_update(actor=creator, work=mine, identifiers={"isbn": [MINE, THEIRS]})
    conflict = Conflict.objects.get()
    assert (conflict.work_a, conflict.work_b) == (theirs, mine)
    assert conflict.matches == [{"kind": "isbn", "value": THEIRS}]
