"""A file whose processing outlasts WORKS_PROCESSING_TIME_LIMIT is refused by a real (prefork)
Celery worker, instead of running on and being queued again by the sweep."""

import pytest
from django.urls import reverse
from PIL import Image

from portal.celery import app as celery_app
from tests.services import WorkerProcess, wait_for
from works.models import WorkFile
from works.services import TOOK_TOO_LONG
from works.tasks import work_file_process

pytestmark = pytest.mark.worker


@pytest.fixture
def prefork_worker(transactional_db, broker_env, tmp_path, settings, monkeypatch):
    # The publisher's limits travel in the message (the site and the worker read the same
    # setting): this process's task says 1 s as the worker's does.
    monkeypatch.setattr(work_file_process, "soft_time_limit", 1)
    monkeypatch.setattr(work_file_process, "time_limit", 31)
    # Celery caches a task's send options at its first publish: an earlier test's publish
    # would otherwise send the default limits.
    monkeypatch.setattr(work_file_process, "_exec_options", None)
    worker = WorkerProcess(
        broker_env,
        extra_env={
            "CONSENT_ANCHOR_LOG": str(settings.CONSENT_ANCHOR_LOG),
            "WORKS_PROCESSING_TIME_LIMIT": "1",
        },
        log_path=tmp_path / "worker.log",
        pool="prefork",
    )
    celery_app.conf.task_always_eager = False
    try:
        yield worker.start()
    finally:
        celery_app.conf.task_always_eager = True
        worker.stop()


def test_an_image_that_takes_too_long_to_process_is_refused(
    prefork_worker, client, creator, tmp_path
):
    # 144 megapixels (under WORKS_IMAGE_MAX_PIXELS) in a 0.6 MB PNG: over 3 s of decoding here.
    path = tmp_path / "slow.png"
    Image.new("RGBA", (12000, 12000), (10, 20, 30, 128)).save(path)
    client.force_login(creator)
    with open(path, "rb") as handle:
        response = client.post(
            reverse("works:create"), {"title": "Slow", "kind": "photograph", "file": handle}
        )
    assert response.status_code == 302

    def settled():
        work_file = WorkFile.objects.get()
        return work_file if work_file.status != WorkFile.Status.PROCESSING else None

    try:
        work_file = wait_for(settled, timeout=40, what="the worker to give up on the image")
    except AssertionError:
        raise AssertionError(prefork_worker.log().decode(errors="replace")[-3000:]) from None
    assert work_file.status == WorkFile.Status.FAILED
    assert work_file.error == TOOK_TOO_LONG
    assert not work_file.original  # the stored original is removed, as for any refused file
