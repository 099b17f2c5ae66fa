"""Image processing runs in a real Celery worker process: the upload returns at once with the
work "processing", and the worker's fingerprint and thumbnail then appear."""

import pytest
from django.urls import reverse

from tests.services import wait_for
from tests.works import files
from works.models import WorkFile

pytestmark = pytest.mark.worker


def test_the_worker_fingerprints_and_thumbnails_an_upload(celery_worker, client, creator, tmp_path):
    client.force_login(creator)
    path = files.make_jpeg(tmp_path / "pier.jpg", size=(2400, 1600), seed=21)
    with open(path, "rb") as handle:
        response = client.post(
            reverse("works:create"), {"title": "Pier", "kind": "photograph", "file": handle}
        )
    assert response.status_code == 302

    def processed():
        work_file = WorkFile.objects.get()
        return work_file if work_file.status != WorkFile.Status.PROCESSING else None

    try:
        work_file = wait_for(processed, timeout=30, what="the worker to process the image")
    except AssertionError:
        raise AssertionError(celery_worker.log().decode(errors="replace")[-3000:]) from None
    assert work_file.status == WorkFile.Status.READY, (work_file.error, celery_worker.log()[-2000:])
    assert work_file.thumbnail and work_file.phash is not None
    panel = client.get(
        reverse("works:file-status", args=[work_file.work.public_id])
    ).content.decode()
    assert reverse("works:thumbnail", args=[work_file.work.public_id]) in panel
    assert "hx-trigger" not in panel  # polling stops once the work is processed
