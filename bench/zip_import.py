"""Benchmark: import a ZIP of 200 photographs on the embedded default, and what the image
worker then spends on each (decode, thumbnail, perceptual hash).

The import worker vets, hashes and stores each file and leaves the thumbnails to the image
queue (one message per image, as a single upload does), so that several workers share them:
this shows what each part costs. Same method as ``bench.csv_import``: a scratch ``VAR_DIR``
migrated by ``manage.py migrate`` and a fresh process calling the engine synchronously.

The smoke run (``BENCH_SMOKE=1``) imports 3 photographs.

Run: ``.venv/bin/python -m bench.zip_import``
"""

import json
import tempfile
from pathlib import Path

from bench import sized
from bench.csv_import import _python, _row, _scratch_env, migrate, print_table

IMAGES = sized(200, 3)

_MAKE = r"""
import sys, zipfile
from tests.works.files import make_jpeg

count, path, folder = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
    for n in range(count):
        jpeg = make_jpeg(f"{folder}/photo-{n}.jpg", size=(1600, 1067), seed=n)
        archive.write(jpeg, f"shoot/photo-{n:04d}.jpg")
"""

_RUN = r"""
import json, os, resource, shutil, sys, time
import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()
from django.conf import settings
from accounts.models import User
from works import imports, services
from works.models import ImportJob, WorkFile

source = sys.argv[1]
owner = User.objects.create_user(email="bench@example.org", password="x" * 20)
name = "imports/bench.zip"
target = settings.MEDIA_ROOT / name
target.parent.mkdir(parents=True, exist_ok=True)
shutil.copyfile(source, target)
job = ImportJob.objects.create(owner=owner, kind="zip", source=name, original_name="bench.zip",
                               size=target.stat().st_size)
started = time.perf_counter()
imports.job_run(job_id=job.pk)
imported = time.perf_counter() - started
job.refresh_from_db()
started = time.perf_counter()
for file_id in WorkFile.objects.values_list("pk", flat=True):
    services.work_file_process(file_id=file_id)
processed = time.perf_counter() - started
print(json.dumps({
    "import_s": imported, "process_s": processed, "status": job.status, "error": job.error,
    "created": job.created_count, "ready": WorkFile.objects.filter(status="ready").count(),
    "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-zip-") as tmp:
        folder = Path(tmp)
        (folder / "jpegs").mkdir()
        archive = folder / "shoot.zip"
        _python(_MAKE, str(IMAGES), str(archive), str(folder / "jpegs"))
        var = folder / "var"
        var.mkdir()
        env = _scratch_env(var)
        migrate(var)
        size_mb = archive.stat().st_size / 1e6
        result = json.loads(_python(_RUN, str(archive), env=env).strip().splitlines()[-1])
    if result["status"] != "done" or result["created"] != IMAGES:
        raise RuntimeError(f"the import did not finish: {result}")
    return [
        _row(f"archive of {IMAGES} JPEGs (1600 × 1067)", round(size_mb, 1), "MB"),
        _row("import (vet, hash, store, queue)", round(result["import_s"], 2), "s"),
        _row("import, per file", round(1000 * result["import_s"] / IMAGES, 1), "ms"),
        _row("image worker, per file", round(1000 * result["process_s"] / IMAGES, 1), "ms"),
        _row("thumbnails made", result["ready"], ""),
        _row("peak RSS", round(result["maxrss_kb"] / 1024, 1), "MB"),
    ]


if __name__ == "__main__":
    print_table(run())
