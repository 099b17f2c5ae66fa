"""A catalogue import costs the same per row however many works the creator already has: its
matching looks rows up by identifier and by title through their indexes, never by walking all
of their works. Measured without a clock — queries counted, and on SQLite (the embedded default)
the virtual machine's instructions counted — so it does not depend on the machine."""

import csv
import io
from contextlib import contextmanager

from django.core.files import File
from django.db import connection

from works import imports
from works.models import ImportJob, Work, WorkIdentifier

WORK_COLUMNS = ["title", "kind", "year", "description", "co_creators"]
HEADER = WORK_COLUMNS + ["isbn", "isrc", "iswc", "doi", "urls"]
ROWS = 100  # one batch
STEPS = 100  # the progress handler is called every STEPS instructions


def add_works(owner, prefix: str, count: int) -> None:
    """``count`` works already in their catalogue, each with a web address of its own."""
    works = Work.objects.bulk_create(
        Work(owner=owner, title=f"{prefix} existing {n}", kind="book", year=2000 + n % 20)
        for n in range(count)
    )
    WorkIdentifier.objects.bulk_create(
        WorkIdentifier(work=work, scheme="url", value=f"https://{prefix}.example/existing/{n}")
        for n, work in enumerate(works)
    )


def catalogue(path, prefix: str):
    """One batch of rows as a creator sends them: half new, a tenth matching a work they have
    by its web address, the rest new or matching by title, kind and year."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(HEADER)
    for n in range(ROWS):
        url = ""
        if n % 10 == 0:
            url = f"https://{prefix}.example/existing/{n}"  # a work they registered before
        elif n % 2:
            url = f"https://{prefix}.example/new/{n}"
        title = f"{prefix} existing {n}" if n % 10 == 2 else f"{prefix} new {n}"
        out.writerow([title, "book", str(2000 + n % 20), "", "", "", "", "", "", url])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@contextmanager
def sqlite_instructions():
    """Counts what SQLite executes, in units of ``STEPS`` virtual-machine instructions."""
    counted = [0]

    def tick():
        counted[0] += 1
        return 0

    connection.ensure_connection()
    connection.connection.set_progress_handler(tick, STEPS)
    try:
        yield counted
    finally:
        connection.connection.set_progress_handler(None, STEPS)


def measured_import(owner, path, django_capture_on_commit_callbacks):
    """Upload and enqueue, then run the worker's part alone under the counters."""
    with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=False):
        job = imports.job_create(owner=owner, upload=File(handle, name=path.name))
    queries = []  # not CaptureQueriesContext: the import empties the debug query log per batch

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        if connection.vendor == "sqlite":
            with sqlite_instructions() as steps:
                imports.job_run(job_id=job.pk)
        else:
            steps = [None]
            imports.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.created_count, job.matched_count) == (ROWS - 20, 20)
    return len(queries), steps[0]


def test_import_does_not_cost_more_per_row_in_a_large_catalogue(
    creator, other_creator, tmp_path, django_capture_on_commit_callbacks
):
    add_works(creator, "small", 100)
    add_works(other_creator, "large", 5_000)

    capture = django_capture_on_commit_callbacks
    small_queries, small_steps = measured_import(
        creator, catalogue(tmp_path / "small.csv", "small"), capture
    )
    large_queries, large_steps = measured_import(
        other_creator, catalogue(tmp_path / "large.csv", "large"), capture
    )

    assert large_queries == small_queries
    if small_steps is not None:
        # 50 times the works: a walk over their works would cost about 50 times more; index
        # lookups cost a few more levels of the B-trees.
        assert large_steps <= 1.3 * small_steps, (small_steps, large_steps)
