"""The import pages through the real views and the streaming vetting handler: the form takes a
CSV or a ZIP (decided by content, within each one's limit), the job's page shows a real
``<progress>`` polled while the worker runs, the error report and the template download as
safe CSV, and nobody but the owner sees a job."""

import csv
import io
import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from tests.works import files
from works.csvsafe import FORMULA_STARTS
from works.models import ImportJob, ImportRowError, Work


@pytest.fixture
def post_import(client, creator, django_capture_on_commit_callbacks):
    client.force_login(creator)

    def _post(path, kind="csv"):
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("works:import-create"), {"kind": kind, "file": handle})

    return _post


def _job(owner, **fields):
    return ImportJob.objects.create(
        owner=owner, kind="csv", original_name="catalogue.csv", size=1000, **fields
    )


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_anonymous_visitors_are_sent_to_sign_in(client, creator):
    job = _job(creator)
    for name, args in [
        ("import-list", []),
        ("import-create", []),
        ("import-template", []),
        ("import-detail", [job.pk]),
        ("import-progress", [job.pk]),
        ("import-errors", [job.pk]),
    ]:
        response = client.get(reverse(f"works:{name}", args=args))
        assert response.status_code == HTTPStatus.FOUND, name
        assert response["Location"].startswith(reverse("account_login")), name


def test_another_creator_gets_404_for_a_job_its_progress_and_its_report(
    client, creator, other_creator
):
    job = _job(creator, status="done", total_rows=2, processed_rows=2, error_count=1)
    ImportRowError.objects.create(job=job, row=2, column="isbn", message="Bad ISBN")
    client.force_login(other_creator)
    for name in ("import-detail", "import-progress", "import-errors"):
        response = client.get(reverse(f"works:{name}", args=[job.pk]))
        assert response.status_code == HTTPStatus.NOT_FOUND, name
    page = client.get(reverse("works:import-list")).content.decode()
    assert "catalogue.csv" not in page


def test_the_form_explains_both_kinds_and_links_the_template(client, creator):
    client.force_login(creator)
    page = client.get(reverse("works:import-create")).content.decode()
    assert page.count("<h1") == 1
    assert reverse("works:import-template") in page
    assert re.search(r'<input type="radio" name="kind" value="csv"[^>]*checked', page)
    assert 'type="file" name="file"' in page
    assert 'enctype="multipart/form-data"' in page
    for column in ("title", "kind", "co_creators", "isbn", "urls", "metadata.csv"):
        assert f"<code>{column}</code>" in page


def test_a_csv_posted_through_the_form_is_imported_and_shown(post_import, creator, tmp_path):
    path = tmp_path / "works.csv"
    path.write_text("title;kind;year\nLow Tide;poem;2020\nBad;nonsense;\n", encoding="utf-8")
    response = post_import(path)
    job = ImportJob.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("works:import-detail", args=[job.pk])
    assert (job.kind, job.original_name, job.owner) == ("csv", "works.csv", creator)
    assert (job.status, job.created_count, job.error_count) == ("done", 1, 1)
    assert Work.objects.filter(owner=creator, title="Low Tide").exists()


def test_the_template_imports_as_it_is(post_import, creator, client, tmp_path):
    response = client.get(reverse("works:import-template"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="works-import-template.csv"'
    rows = _csv(response)
    assert rows[0] == [
        "title", "kind", "year", "description", "co_creators", "isbn", "isrc", "iswc", "doi", "urls"
    ]  # fmt: skip
    assert len(rows) == 3
    assert not any(cell.startswith(FORMULA_STARTS) for row in rows for cell in row)
    path = tmp_path / "template.csv"
    path.write_bytes(b"".join(client.get(reverse("works:import-template")).streaming_content))
    post_import(path)
    job = ImportJob.objects.get()
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 0)


@pytest.mark.parametrize(
    ("maker", "kind", "message"),
    [
        (
            lambda p: files.make_jpeg(p / "photo.jpg"),
            "csv",
            "This file is a JPEG image, not a CSV file or a ZIP archive.",
        ),
        (
            lambda p: files.make_zip(p / "files.zip"),
            "csv",
            "This file is a ZIP archive: choose “ZIP of files”, or upload a CSV file.",
        ),
        (
            lambda p: files.make_txt(p / "list.csv", "title,kind\nA,poem\n"),
            "zip",
            "This file is not a ZIP archive: choose “CSV of works”.",
        ),
        (
            lambda p: files.make_txt(p / "u16.csv", "title,kind\nA,poem\n", encoding="utf-16"),
            "csv",
            "This CSV file is in UTF-16.",
        ),
        (lambda p: files.make_txt(p / "empty.csv", ""), "csv", "This file is empty."),
    ],
)
def test_files_that_are_not_what_was_chosen_are_refused(
    post_import, tmp_path, maker, kind, message
):
    response = post_import(maker(tmp_path), kind=kind)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not ImportJob.objects.exists()


def test_a_csv_over_its_limit_is_refused_while_it_streams(post_import, tmp_path, settings):
    settings.WORKS_IMPORT_CSV_MAX_BYTES = 10_000
    path = tmp_path / "big.csv"
    path.write_text("title,kind\n" + "A long title,poem\n" * 1000)
    response = post_import(path)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "This csv file is too large" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_progress_of_a_running_job_is_a_real_progress_bar_that_polls(client, creator):
    job = _job(
        creator, status="running", total_rows=10_000, processed_rows=1_200, created_count=1_100
    )
    client.force_login(creator)
    page = client.get(reverse("works:import-progress", args=[job.pk])).content.decode()
    assert re.search(r'<progress id="import-progress-bar" max="10000" value="1200"', page)
    assert '<label for="import-progress-bar"' in page
    assert "1,200 of 10,000 rows" in page
    assert f'hx-get="{reverse("works:import-progress", args=[job.pk])}"' in page
    assert 'hx-trigger="every 1s"' in page
    assert reverse("works:import-detail", args=[job.pk]) in page  # "Refresh" without JavaScript
    assert "<html" not in page  # the partial alone


def test_a_finished_job_stops_polling_and_offers_its_report(client, creator):
    job = _job(
        creator, status="done", total_rows=3, processed_rows=3, created_count=2, error_count=1
    )
    ImportRowError.objects.create(job=job, row=3, column="year", message="Not a year.")
    client.force_login(creator)
    page = client.get(reverse("works:import-detail", args=[job.pk])).content.decode()
    assert page.count("<h1") == 1
    assert "hx-get" not in page
    assert re.search(r'<progress id="import-progress-bar" max="3" value="3"', page)
    assert reverse("works:import-errors", args=[job.pk]) in page
    response = client.get(reverse("works:import-errors", args=[job.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="import-{job.pk}-errors.csv"'
    assert response["Cache-Control"] == "private, no-store"
    assert _csv(response) == [["row", "column", "message"], ["3", "year", "Not a year."]]


def test_a_failed_job_says_why(client, creator):
    job = _job(creator, status="failed", error="The first row has no “title” column.")
    client.force_login(creator)
    page = client.get(reverse("works:import-detail", args=[job.pk])).content.decode()
    assert "The import stopped:" in page
    assert "The first row has no “title” column." in page
    assert "hx-get" not in page


def test_the_list_shows_the_creators_own_imports(client, creator, other_creator):
    _job(creator, status="done", total_rows=5, processed_rows=5, created_count=5)
    ImportJob.objects.create(owner=other_creator, kind="zip", original_name="bobs.zip", size=1)
    client.force_login(creator)
    page = client.get(reverse("works:import-list")).content.decode()
    assert "catalogue.csv" in page and "bobs.zip" not in page
    assert reverse("works:import-create") in page


def test_a_refused_upload_shows_its_reason_alone(post_import, tmp_path):
    response = post_import(files.make_pdf(tmp_path / "book.pdf"))
    page = response.content.decode()
    assert "This file is a PDF document, not a CSV file or a ZIP archive." in page
    assert "This field is required." not in page
    assert 'aria-invalid="true"' in page
