"""A real Celery worker matching a manifest is killed with SIGKILL in the middle; another worker
takes the disclosure over once the lease has run out and ends with exactly the findings of an
uninterrupted run: every planted row once, nothing twice, nothing half-made."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from disclosures import matching, services
from disclosures.models import Disclosure, Finding
from portal.celery import app as celery_app
from tests import factories
from tests.services import WorkerProcess, wait_for
from works.models import WorkIdentifier

pytestmark = pytest.mark.worker

ROWS = 60_000
EVERY = 200  # one row in EVERY names a registered work


def isbn13(n: int) -> str:
    digits = f"978{n:09d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return digits + str(check)


def _manifest() -> tuple[bytes, set[int]]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["isbn", "url"])
    planted = set()
    for row in range(1, ROWS + 1):
        if row % EVERY == 0:
            writer.writerow([isbn13(row // EVERY), ""])
            planted.add(row)
        else:
            writer.writerow(["", f"https://elsewhere.example/item/{row}"])
    return buffer.getvalue().encode(), planted


def _submit(developer, content):
    disclosure, _ = services.disclosure_submit(
        actor=None,
        developer=developer,
        fields=services.Fields(name="Books crawl", uses=["train-ai"]),
        manifest=SimpleUploadedFile("books.csv", content, content_type="text/csv"),
        via="api",
    )
    return disclosure


def _worker(broker_env, tmp_path, name):
    return WorkerProcess(
        broker_env,
        extra_env={"DISCLOSURE_BATCH_ROWS": "500", "DISCLOSURE_LEASE_SECONDS": "2"},
        log_path=tmp_path / f"{name}.log",
    )


def test_a_worker_killed_mid_manifest_is_taken_over_and_finds_exactly_what_it_should(
    transactional_db, broker_env, tmp_path, settings, creator
):
    for n in range(1, ROWS // EVERY + 1):
        work = factories.WorkFactory(owner=creator, title=f"Book {n}")
        WorkIdentifier.objects.create(work=work, scheme="isbn", value=isbn13(n))
    content, planted = _manifest()
    settings.DISCLOSURE_LEASE_SECONDS = 2
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")

    first = _worker(broker_env, tmp_path, "first").start()
    celery_app.conf.task_always_eager = False
    try:
        disclosure = _submit(developer, content)  # queued on commit: the worker takes it

        def midway():
            d = Disclosure.objects.get(pk=disclosure.pk)
            return d if 0 < d.rows_read < ROWS // 2 else None

        wait_for(midway, timeout=60, interval=0.02, what="the worker to be mid-manifest")
        first.kill()  # SIGKILL: its lease stays until it runs out

        stopped = Disclosure.objects.get(pk=disclosure.pk)
        assert stopped.state == Disclosure.State.RUNNING
        assert stopped.rows_read < ROWS
        # What it wrote is whole: every batch's findings with the row it reached, no more.
        written = set(Finding.objects.filter(disclosure=disclosure).values_list("row", flat=True))
        assert written == {row for row in planted if row <= stopped.rows_read}

        second = _worker(broker_env, tmp_path, "second").start()
        try:

            def done():
                matching.disclosures_sweep()  # as beat does, every minute
                d = Disclosure.objects.get(pk=disclosure.pk)
                return d if d.finished else None

            finished = wait_for(done, timeout=90, interval=1, what="the takeover to finish")
        finally:
            second.stop()
    finally:
        celery_app.conf.task_always_eager = True
        first.stop()

    assert finished.state == Disclosure.State.DONE, (finished.error, second.log()[-2000:])
    assert finished.attempts == 2 and finished.rows_read == ROWS
    rows = list(Finding.objects.filter(disclosure=disclosure).values_list("row", flat=True))
    assert len(rows) == len(set(rows))  # nothing twice
    assert set(rows) == planted

    # The same manifest matched without interruption (another developer) finds the same.
    other = factories.AIDeveloperFactory(name="Other Models Inc", slug="other-models")
    again = _submit(other, content)  # matched at once: tasks run in this process again
    uninterrupted = Disclosure.objects.get(pk=again.pk)
    assert uninterrupted.state == Disclosure.State.DONE and uninterrupted.attempts == 1
    assert set(
        Finding.objects.filter(disclosure=uninterrupted).values_list("row", "work_id")
    ) == set(Finding.objects.filter(disclosure=finished).values_list("row", "work_id"))
