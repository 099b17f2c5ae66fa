"""Benchmark: a large file into the bucket and back, in bounded memory (issue 16).

A 256 MiB file (16 MiB in the smoke run) is saved through the portal's ``BucketStorage`` to
moto's standalone S3-compatible server over HTTP (multipart: 8 MiB parts, four in flight), then
read back as the worker reads originals (``accounts.storage.opened``: the response body as it
arrives) while hashing it; the same is done on the folder storage side by side.

Rows: the peak memory the file's size adds to the bucket round trip (``VmHWM`` of a fresh
process that saves and reads the large file, less that of one doing the same with a 1 KiB file:
boto3's own footprint cancels out) — target under 80 MiB whatever the file's size: four 8 MiB
parts read ahead plus the client's buffers, not the file (measured 50 MiB for 64 MiB and 62 MiB
for 512 MiB on this machine); the read-back SHA-256 equal to the file's (exact); the
bucket's save and read times as ratios of the folder's (information: moto on the same 2-core
machine is no real bucket).

Run: ``.venv/bin/python -m bench storage`` (needs ``.venv-moto``: ``make install-test``).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import sized

ROOT = Path(__file__).resolve().parent.parent
MEGABYTES = sized(256, 16)
MEMORY_TARGET_MB = 80

_CHILD = """
import hashlib, json, os, sys, tempfile, time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
import django

django.setup()
from django.core.files import File

from accounts import storage as stored_files
from accounts.bucket import BucketStorage
from accounts.storage import FolderStorage

kind, endpoint, megabytes, folder = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
out = {}


def status(key):
    with open("/proc/self/status") as lines:
        return int(next(l for l in lines if l.startswith(key)).split()[1])


if kind != "import":
    if kind == "bucket":
        storage = BucketStorage(
            bucket_name="bench-media", endpoint_url=endpoint, region_name="us-east-1",
            access_key="bench", secret_key="bench",
        )
    else:
        storage = FolderStorage(location=folder)
    with tempfile.TemporaryFile() as source:
        digest = hashlib.sha256()
        block = os.urandom(1 << 20 if megabytes else 1024)
        for _ in range(max(megabytes, 1)):
            source.write(block)
            digest.update(block)
        source.seek(0)
        start = time.perf_counter()
        name = storage.save("bench/large.bin", File(source, name="large.bin"))
        out["save_s"] = time.perf_counter() - start
    start = time.perf_counter()
    back = hashlib.sha256()
    with stored_files.opened(name, storage=storage) as stream:
        while chunk := stream.read(1 << 20):
            back.update(chunk)
    out["read_s"] = time.perf_counter() - start
    out["equal"] = back.hexdigest() == digest.hexdigest()
    storage.delete(name)
out["vmhwm_kb"] = status("VmHWM")
print(json.dumps(out))
"""


def _child(kind: str, endpoint: str, folder: str, megabytes: int = MEGABYTES) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, endpoint, str(megabytes), folder],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(name, value, unit, target=None, ok=True, exact=False) -> dict:
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok, "exact": exact}


def run() -> list[dict]:
    import tempfile

    import boto3

    sys.path.insert(0, str(ROOT))
    from tests.services import MOTO_SERVER, BucketServer

    if not MOTO_SERVER.exists():
        return [_row("skipped: no .venv-moto (make install-test)", "", "")]
    server = BucketServer().start()
    try:
        boto3.client(
            "s3",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        ).create_bucket(Bucket="bench-media")
        with tempfile.TemporaryDirectory() as folder:
            baseline = _child("bucket", server.endpoint_url, folder, megabytes=0)
            on_folder = _child("folder", server.endpoint_url, folder)
            on_bucket = _child("bucket", server.endpoint_url, folder)
    finally:
        server.stop()
    added_mb = (on_bucket["vmhwm_kb"] - baseline["vmhwm_kb"]) / 1024
    return [
        _row(
            f"bucket: peak memory, {MEGABYTES} MiB file less a 1 KiB one",
            round(added_mb, 1),
            "MiB",
            f"< {MEMORY_TARGET_MB}",
            added_mb < MEMORY_TARGET_MB,
        ),
        _row(
            "bucket: read-back SHA-256 equals the file's",
            on_bucket["equal"] and on_folder["equal"],
            "",
            "True",
            on_bucket["equal"] and on_folder["equal"],
            exact=True,
        ),
        _row(
            f"bucket save ÷ folder save ({on_bucket['save_s']:.2f} ÷ {on_folder['save_s']:.2f} s)",
            round(on_bucket["save_s"] / max(on_folder["save_s"], 1e-6), 1),
            "×",
        ),
        _row(
            f"bucket read ÷ folder read ({on_bucket['read_s']:.2f} ÷ {on_folder['read_s']:.2f} s)",
            round(on_bucket["read_s"] / max(on_folder["read_s"], 1e-6), 1),
            "×",
        ),
    ]
