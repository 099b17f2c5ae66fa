"""A creator, in a real browser, imports their catalogue as a CSV with one bad row: a real Celery
worker imports it while the page's progress bar fills without their reloading (htmx polling);
then they download the error report, which names the bad row, its column and what is wrong."""

import csv
import io
import re
from pathlib import Path

import pytest

from works.models import ImportJob, Work

pytestmark = pytest.mark.worker

ROWS = 1_500


def write_catalogue(path: Path) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["title", "kind", "year", "urls"])
    for n in range(ROWS):
        if n == 700:  # spreadsheet row 702
            writer.writerow(["Portrait with a typo", "photgraph", "2017", ""])
        else:
            writer.writerow(
                [f"Harbour study {n}", "photograph", "2017", f"https://alice.example/{n}"]
            )
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    return path


def test_csv_import_shows_progress_and_its_error_report(
    live_server, browser_sign_in, celery_worker, page, audit, creator, tmp_path
):

    catalogue = write_catalogue(tmp_path / "catalogue.csv")
    browser_sign_in(page, creator)

    page.goto(live_server.url + "/works/imports/new/")
    audit(page)
    page.get_by_role("radio", name="CSV of works").check()
    page.get_by_label(re.compile("^file", re.I)).set_input_files(str(catalogue))
    page.get_by_role("button", name=re.compile("start the import", re.I)).click()
    page.wait_for_url(re.compile(r"/works/imports/\d+/$"))
    audit(page)

    # No reload: the panel polls until the worker has read every row.
    bar = page.locator("progress#import-progress-bar")
    page.wait_for_function(
        "() => { const p = document.querySelector('progress#import-progress-bar');"
        " return p && p.hasAttribute('max') && p.value === p.max; }",
        timeout=60_000,
    )
    assert bar.get_attribute("max") == str(ROWS)
    page.get_by_text(f"{ROWS:,} of {ROWS:,} rows").wait_for()
    link = page.get_by_role("link", name=re.compile("download the error report", re.I))
    link.wait_for(timeout=30_000)
    audit(page)

    job = ImportJob.objects.get()
    assert (job.status, job.created_count, job.error_count) == ("done", ROWS - 1, 1)
    assert Work.objects.filter(owner=creator).count() == ROWS - 1

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"import-{job.pk}-errors.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["row", "column", "message"]
    assert rows[1][:2] == ["702", "kind"]
    assert rows[1][2].startswith("“photgraph” is not a kind of work we know.")

    page.get_by_role("link", name="Imports").click()
    page.wait_for_url(re.compile(r"/works/imports/$"))
    assert page.get_by_role("link", name="catalogue.csv").is_visible()
    audit(page)
    assert not page.console_errors, page.console_errors
