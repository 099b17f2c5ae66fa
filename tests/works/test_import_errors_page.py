"""Issue 19: an import's page lists its errors — the first 50 in a table (row, column, what is
wrong), with the CSV report for all of them — and says where the import stands instead of a
flash message that said "uploaded and queued" after the import had already finished."""

import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from works.models import ImportJob, ImportRowError
from works.views.imports import ERRORS_SHOWN


def _job(owner, **fields):
    fields = {"status": "done", "total_rows": 70, "processed_rows": 70, **fields}
    return ImportJob.objects.create(
        owner=owner, kind=fields.pop("kind", "csv"), original_name="catalogue.csv", size=1, **fields
    )


def _errors(job, n):
    ImportRowError.objects.bulk_create(
        ImportRowError(job=job, row=n - i + 1, column="isbn", message=f"Bad ISBN number {n - i}")
        for i in range(n)  # written out of order: the page shows them in file order
    )


def _rows(page: str) -> list[tuple[str, str, str]]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]
    return list(zip(cells[0::3], cells[1::3], cells[2::3], strict=True))


def test_the_first_50_errors_are_listed_in_file_order_with_the_csv_for_all(client, creator):
    job = _job(creator, error_count=60)
    _errors(job, 60)
    client.force_login(creator)
    page = client.get(reverse("works:import-detail", args=[job.pk])).content.decode()

    assert "The first 50 of 60 errors, in file order" in page
    assert re.search(r'<th scope="col"[^>]*>Row</th>\s*<th scope="col">Column</th>', page)
    rows = _rows(page)
    assert len(rows) == ERRORS_SHOWN == 50
    assert rows[0] == ("2", "isbn", "Bad ISBN number 1")
    assert rows[-1] == ("51", "isbn", "Bad ISBN number 50")
    assert "Bad ISBN number 51" not in page
    assert "CSV of all 60 errors" in page
    report = client.get(reverse("works:import-errors", args=[job.pk]))
    lines = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 60


def test_a_few_errors_are_all_listed(client, creator):
    job = _job(creator, error_count=2)
    ImportRowError.objects.create(job=job, row=3, column="year", message="“19x9” is not a year.")
    ImportRowError.objects.create(job=job, row=9, column="", message="The row has no title.")
    client.force_login(creator)
    page = client.get(reverse("works:import-detail", args=[job.pk])).content.decode()
    assert "2 errors, in file order" in page
    assert "The first" not in page
    assert _rows(page) == [
        ("3", "year", "“19x9” is not a year."),
        ("9", "—", "The row has no title."),
    ]
    assert reverse("works:import-errors", args=[job.pk]) in page


def test_a_zip_import_names_its_entries_and_paths(client, creator):
    job = _job(creator, kind="zip", error_count=1)
    ImportRowError.objects.create(
        job=job, row=4, column="photos/cover.gif", message="Refused: not an image we take."
    )
    client.force_login(creator)
    page = client.get(reverse("works:import-detail", args=[job.pk])).content.decode()
    assert re.search(r'<th scope="col"[^>]*>Entry</th>\s*<th scope="col">Path</th>', page)
    assert _rows(page) == [("4", "photos/cover.gif", "Refused: not an image we take.")]


def test_an_import_without_errors_has_no_table(client, creator):
    job = _job(creator, created_count=70)
    client.force_login(creator)
    page = client.get(reverse("works:import-detail", args=[job.pk])).content.decode()
    assert "<table" not in page
    assert reverse("works:import-errors", args=[job.pk]) not in page


def test_a_running_import_polls_without_reading_its_errors(client, creator):
    job = _job(creator, status="running", processed_rows=10, error_count=5)
    _errors(job, 5)
    client.force_login(creator)
    page = client.get(reverse("works:import-progress", args=[job.pk])).content.decode()
    assert "hx-get" in page
    assert "<table" not in page


@pytest.mark.parametrize("errors", [1, 60, 4000])
def test_the_page_takes_as_many_queries_whatever_the_number_of_errors(
    client, creator, errors, django_assert_max_num_queries
):
    job = _job(creator, error_count=errors)
    _errors(job, errors)
    client.force_login(creator)
    client.get(reverse("works:import-detail", args=[job.pk]))  # the session, warmed
    with django_assert_max_num_queries(7):
        response = client.get(reverse("works:import-detail", args=[job.pk]))
    assert response.status_code == HTTPStatus.OK


def test_another_creator_does_not_see_the_errors(client, creator, other_creator):
    job = _job(creator, error_count=1)
    ImportRowError.objects.create(job=job, row=2, column="isbn", message="Alice's secret row")
    client.force_login(other_creator)
    for name in ("import-detail", "import-progress", "import-errors"):
        response = client.get(reverse(f"works:{name}", args=[job.pk]))
        assert response.status_code == HTTPStatus.NOT_FOUND, name
        assert b"secret" not in b"".join(getattr(response, "streaming_content", [response.content]))


def test_a_queued_import_says_it_is_uploaded_and_waiting(client, creator):
    job = _job(creator, status="queued", total_rows=None, processed_rows=0)
    client.force_login(creator)
    page = client.get(reverse("works:import-progress", args=[job.pk])).content.decode()
    assert "“catalogue.csv” is uploaded; the import starts as soon as a worker is free." in page


def test_a_finished_import_does_not_say_it_is_queued(
    client, creator, tmp_path, django_capture_on_commit_callbacks
):
    """The worker ran at once (as it may well on a quiet day): the page the creator lands on
    says the import finished and lists its error, and nothing says it is still queued."""
    path = tmp_path / "works.csv"
    path.write_text("title;kind\nLow Tide;poem\nHigh Tide;nonsense\n", encoding="utf-8")
    client.force_login(creator)
    with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("works:import-create"), {"kind": "csv", "file": handle})
    assert ImportJob.objects.get().status == "done"
    page = client.get(response["Location"]).content.decode()  # messages are read here
    assert "uploaded and queued" not in page
    assert "is uploaded" not in page
    assert "Waiting to start" not in page
    assert "Finished" in page
    assert _rows(page) == [("3", "kind", _rows(page)[0][2])]
    assert "nonsense" in _rows(page)[0][2]
