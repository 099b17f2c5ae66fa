"""``manage.py media_to_bucket``: an existing installation's files copied from the folder to the
bucket, each verified by its SHA-256, resumable; then the portal switched to the bucket serves
the files uploaded before the move (docs/storage.md, "Moving an existing installation").

Against moto's standalone S3-compatible server over HTTP (``bucket_server``), in a versioned
bucket of each test's own, so a test can tell an object uploaded once from one uploaded again."""

import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
import uuid
from http import HTTPStatus

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from accounts.storage import FolderStorage
from accounts.storage_move import folder_names
from tests.conftest import bucket_options
from tests.services import ROOT, free_port, wait_for
from tests.storage import download
from tests.works import files
from works.models import Work, WorkFile

MiB = 1 << 20
NEXT_STEP = "Next step: set MEDIA_STORAGE=s3 and restart web, worker and beat."


@pytest.fixture
def bucket(settings, bucket_server):
    """A fresh versioned bucket; the settings name it (under the prefix ``media``) while the
    portal still stores its files in the folder, as before a move (on CI's bucket leg too)."""
    if bucket_server is None:
        pytest.skip("no S3-compatible server: `make test` installs moto in .venv-moto")
    endpoint_url, _ = bucket_server
    name = f"move-{uuid.uuid4().hex[:12]}"
    options = bucket_options((endpoint_url, name), "media")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
    )
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    settings.MEDIA_STORAGE = "folder"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.storage.PathlessFolderStorage"},
    }
    settings.MEDIA_BUCKET_OPTIONS = options
    bucket = Bucket(client, name, options)
    yield bucket
    bucket.remove()


class Bucket:
    def __init__(self, client, name, options):
        self.client, self.name, self.options = client, name, options

    def get(self, name: str):
        """The object stored for the file ``name``: its bytes, metadata, ETag and type."""
        answer = self.client.get_object(Bucket=self.name, Key=f"media/{name}")
        return answer["Body"].read(), answer["Metadata"], answer["ETag"], answer["ContentType"]

    def put(self, name: str, data: bytes, **metadata):
        self.client.put_object(Bucket=self.name, Key=f"media/{name}", Body=data, Metadata=metadata)

    def uploads(self) -> dict[str, int]:
        """How many times each object was written."""
        counts = {}
        pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.name)
        for page in pages:
            for version in page.get("Versions", []):
                key = version["Key"].removeprefix("media/")
                counts[key] = counts.get(key, 0) + 1
        return counts

    def remove(self):
        """Every version of every object, then the bucket (the server keeps them in memory)."""
        pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.name)
        for page in pages:
            for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
                self.client.delete_object(
                    Bucket=self.name, Key=version["Key"], VersionId=version["VersionId"]
                )
        self.client.delete_bucket(Bucket=self.name)


@pytest.fixture
def folder(settings):
    return FolderStorage(location=settings.MEDIA_ROOT)


@pytest.fixture
def stored(folder, tmp_path):
    """An installation's folder: a photograph, an empty file, a nested file, a file past the
    multipart threshold (8 MiB) and a name with spaces and accents; ``{name: bytes}``."""
    contents = {
        "works/originals/2025/harbour.jpg": files.make_jpeg(tmp_path / "h.jpg").read_bytes(),
        "imports/empty.csv": b"",
        "evidence/2026/01/claims/contract.pdf": files.make_pdf(tmp_path / "c.pdf").read_bytes(),
        "exports/registry.jsonl.gz": os.urandom(9 * MiB + 12_345),
        "evidence/Contrat signé — Éditions 2019.txt": "Signé à Montréal, 2019.\n".encode(),
    }
    names = {}
    for name, data in contents.items():
        saved = folder.save(name, ContentFile(data))
        assert saved == name
        names[name] = data
    return names


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("media_to_bucket", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _folder_snapshot(folder) -> dict[str, bytes]:
    snapshot = {}
    for name in folder_names(folder):
        with folder.stream(name) as stream:
            snapshot[name] = stream.read()
    return snapshot


def _size(count: int) -> str:
    return filesizeformat(count).replace("\xa0", " ")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Copying -------------------------------------------------------------------------------------


def test_every_file_is_copied_with_its_sha256_and_the_folder_is_untouched(bucket, folder, stored):
    before = _folder_snapshot(folder)
    out, err = _run("--every", "2")
    assert err == ""
    for name, data in stored.items():
        body, metadata, etag, _ = bucket.get(name)
        assert body == data, name
        assert metadata == {"sha256": _sha256(data)}, name
    assert "-" in bucket.get("exports/registry.jsonl.gz")[2]  # a multipart upload's ETag
    assert bucket.get("works/originals/2025/harbour.jpg")[3] == "image/jpeg"
    assert "… 2 of 5 files" in out and "… 4 of 5 files" in out
    total = _size(sum(len(data) for data in stored.values()))
    assert f"5 of 5 files ({total} in all): 5 copied ({total}), 0 already there, 0 failed." in out
    assert out.rstrip().endswith(NEXT_STEP)
    assert _folder_snapshot(folder) == before


def test_a_second_run_finds_everything_already_there_and_uploads_nothing(bucket, stored):
    _run()
    out, _ = _run()
    total = _size(sum(len(data) for data in stored.values()))
    assert f"5 of 5 files ({total} in all): 0 copied (0 bytes), 5 already there, 0 failed." in out
    assert NEXT_STEP in out
    assert bucket.uploads() == dict.fromkeys(stored, 1)


def test_an_object_with_another_digest_is_copied_again(bucket, stored):
    _run()
    name = "evidence/2026/01/claims/contract.pdf"
    damaged = bytes(reversed(stored[name]))  # the same size, its own digest recorded
    bucket.put(name, damaged, sha256=_sha256(damaged))
    out, _ = _run("-v", "2")
    assert f"copied: {name}" in out
    assert "1 copied" in out and "4 already there" in out
    assert bucket.get(name)[:2] == (stored[name], {"sha256": _sha256(stored[name])})


def test_recheck_reads_back_an_object_whose_recorded_digest_is_right_but_bytes_are_not(
    bucket, stored
):
    _run()
    name = "works/originals/2025/harbour.jpg"
    rotten = bytes(b ^ 0xFF for b in stored[name])  # same size, digest recorded as the file's
    bucket.put(name, rotten, sha256=_sha256(stored[name]))
    out, _ = _run()
    assert "5 already there" in out  # size and recorded digest are all a normal run compares
    out, _ = _run("--recheck")
    assert "1 copied" in out and "4 already there" in out
    assert bucket.get(name)[0] == stored[name]


def test_an_object_the_portal_wrote_itself_is_never_overwritten(bucket, stored):
    """MEDIA_STORAGE was switched before the copy was complete and the portal stored another
    file under the same name: the command leaves it and fails, so nothing is lost."""
    same, other = "imports/empty.csv", "evidence/2026/01/claims/contract.pdf"
    bucket.put(same, b"")  # the same bytes, no digest recorded: counted as there
    bucket.put(other, b"a newer file the portal stored after the switch")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 file\\(s\\) were not copied") as refused:
        call_command("media_to_bucket", stdout=out, stderr=err)
    assert refused.value.returncode == 1
    assert f"failed: {other}: the bucket already holds an object of this name" in err.getvalue()
    assert "3 copied" in out.getvalue() and "1 already there" in out.getvalue()
    assert NEXT_STEP not in out.getvalue()
    assert bucket.get(other)[0] == b"a newer file the portal stored after the switch"


def test_dry_run_lists_what_would_be_copied_and_copies_nothing(bucket, folder, stored):
    _run()
    folder.save("works/originals/2026/new.jpg", ContentFile(b"\xff\xd8 a new photograph"))
    out, _ = _run("--dry-run")
    assert "would copy: works/originals/2026/new.jpg" in out
    assert out.count("would copy:") == 1
    assert "1 to copy (19 bytes), 5 already there, 0 failed." in out
    assert "Dry run: nothing was copied or deleted." in out and NEXT_STEP not in out
    assert "works/originals/2026/new.jpg" not in bucket.uploads()


def test_copies_of_files_deleted_since_are_found_and_deleted_with_delete_gone(
    bucket, folder, stored
):
    """Between the copy made while the portal ran and the last run, a creator deleted their
    account: the copy of their file must not survive in the bucket."""
    _run()
    deleted = "evidence/2026/01/claims/contract.pdf"
    folder.delete(deleted)
    bucket.put("works/originals/2026/someone-elses.jpg", b"not copied by the command")

    out = io.StringIO()
    with pytest.raises(CommandError, match="Run the command again with --delete-gone") as told:
        call_command("media_to_bucket", stdout=out, stderr=io.StringIO())
    assert told.value.returncode == 1
    assert f"copy of a deleted file: {deleted}" in out.getvalue()
    assert "someone-elses" not in out.getvalue() and NEXT_STEP not in out.getvalue()
    out, _ = _run("--delete-gone", "--dry-run")
    assert f"would delete: {deleted}" in out and out.count("would delete:") == 1
    assert _object_exists(bucket, deleted)

    out, _ = _run("--delete-gone")
    assert f"deleted from the bucket: {deleted}" in out
    assert (
        "4 already there, 0 failed; 1 copy of files since deleted from the folder, 1 of them "
        in (out)
    )
    assert NEXT_STEP in out
    assert not _object_exists(bucket, deleted)
    assert _object_exists(bucket, "works/originals/2026/someone-elses.jpg")
    assert _folder_snapshot(folder) == {k: v for k, v in stored.items() if k != deleted}


def test_delete_gone_is_refused_once_the_portal_uses_the_bucket(bucket, stored, settings):
    _run()
    settings.MEDIA_STORAGE = "s3"
    with pytest.raises(CommandError, match="--delete-gone is refused once MEDIA_STORAGE is s3"):
        _run("--delete-gone")
    assert set(bucket.uploads()) == set(stored)


def test_a_file_that_changes_while_it_is_copied_is_not_left_in_the_bucket(bucket, folder, settings):
    """The first read (for the digest) and the upload see different bytes: the object is
    deleted, the file is named, and the exit status says the move is not complete."""
    folder.save("a-first.txt", ContentFile(b"first"))
    pipe = settings.MEDIA_ROOT / "b-changing.txt"
    os.mkfifo(pipe)

    def reading() -> bool:  # this process has the pipe open (Linux: /proc)
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{fd}") == str(pipe):
                    return True
            except OSError:
                pass
        return False

    def writer():
        for text in (b"what was hashed", b"what was sent"):
            with open(pipe, "wb") as end:  # waits for the command to open the file
                end.write(text)
            wait_for(lambda: not reading(), what="the command to finish reading")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    err = io.StringIO()
    with pytest.raises(CommandError, match="Do not switch MEDIA_STORAGE yet"):
        call_command("media_to_bucket", stdout=io.StringIO(), stderr=err)
    thread.join(5)
    assert "failed: b-changing.txt: the file in the folder changed while it was copied" in (
        err.getvalue()
    )
    remaining = {
        key: versions for key, versions in bucket.uploads().items() if _object_exists(bucket, key)
    }
    assert list(remaining) == ["a-first.txt"]


def _object_exists(bucket, name) -> bool:
    try:
        bucket.client.head_object(Bucket=bucket.name, Key=f"media/{name}")
    except bucket.client.exceptions.ClientError:
        return False
    return True


# --- Interrupted, then run again ------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "status"), [(signal.SIGINT, 130), (signal.SIGKILL, -9)])
def test_an_interrupted_run_is_carried_on_by_the_next(bucket, folder, settings, sent, status):
    """A run stopped by Ctrl-C or killed, while it waits on a file it cannot read yet (a named
    pipe nobody writes: a stalled disk): the next run copies only what the first did not."""
    before = [f"a-{i}.bin" for i in range(3)]
    after = [f"z-{i}.bin" for i in range(3)] + ["works/nested.bin"]
    for name in before + after:
        folder.save(name, ContentFile(os.urandom(64 * 1024)))
    stalled = settings.MEDIA_ROOT / "m-stalled.bin"
    os.mkfifo(stalled)
    options = bucket.options
    process = subprocess.Popen(
        [sys.executable, "manage.py", "media_to_bucket"],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "MEDIA_STORAGE": "folder",
            "MEDIA_BUCKET": options["bucket_name"],
            "MEDIA_BUCKET_ENDPOINT_URL": options["endpoint_url"],
            "MEDIA_BUCKET_REGION": options["region_name"],
            "MEDIA_BUCKET_ACCESS_KEY_ID": options["access_key"],
            "MEDIA_BUCKET_SECRET_ACCESS_KEY": options["secret_key"],
            "MEDIA_BUCKET_PREFIX": options["location"],
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(
            lambda: set(bucket.uploads()) == set(before) or process.poll() is not None,
            timeout=60,
            what="the first three files in the bucket",
        )
        assert process.poll() is None, process.communicate()
        process.send_signal(sent)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == status
    if sent == signal.SIGINT:
        assert "Interrupted. Run the command again to carry on" in err.decode()
        assert " of 8 files" in out.decode()  # what was done until then
    assert set(bucket.uploads()) == set(before)

    os.unlink(stalled)
    out, _ = _run()
    assert "7 of 7 files" in out and "4 copied" in out and "3 already there" in out
    assert bucket.uploads() == dict.fromkeys(before + after, 1)


# --- Refusals -------------------------------------------------------------------------------------


def test_without_a_bucket_the_command_refuses_and_copies_nothing(settings, folder, stored):
    settings.MEDIA_BUCKET_OPTIONS = {**settings.MEDIA_BUCKET_OPTIONS, "bucket_name": ""}
    with pytest.raises(CommandError, match="MEDIA_BUCKET is not set") as refused:
        _run()
    assert refused.value.returncode == 1


def test_a_bucket_that_is_not_there_is_named(bucket, stored, settings):
    settings.MEDIA_BUCKET_OPTIONS = {**bucket.options, "bucket_name": "no-such-bucket-here"}
    with pytest.raises(CommandError) as refused:
        _run()
    assert "The bucket no-such-bucket-here/media is not usable: there is no bucket of that " in (
        str(refused.value)
    )
    assert refused.value.returncode == 1


def test_a_bucket_that_does_not_answer_is_named(bucket, stored, settings):
    nobody = f"http://127.0.0.1:{free_port()}"
    settings.MEDIA_BUCKET_OPTIONS = {**bucket.options, "endpoint_url": nobody, "max_attempts": 1}
    with pytest.raises(CommandError, match="is not usable: The file store did not answer"):
        _run()


def test_already_switched_with_an_empty_folder_there_is_nothing_to_copy(bucket, settings):
    settings.MEDIA_STORAGE = "s3"
    with pytest.raises(CommandError, match="Nothing to copy"):
        _run()


def test_an_empty_folder_before_the_switch_is_not_an_error(bucket):
    out, _ = _run()
    assert "Nothing to copy" in out and NEXT_STEP in out


# --- After the switch -----------------------------------------------------------------------------


def test_after_the_switch_an_original_uploaded_before_the_move_is_downloadable(
    bucket, settings, client, creator, other_creator, tmp_path
):
    work = Work.objects.create(owner=creator, title="The Quiet Harbour", kind="photograph")
    photo = files.make_jpeg(tmp_path / "harbour.jpg").read_bytes()
    work_file = WorkFile.objects.create(
        work=work,
        original_name="harbour.jpg",
        size=len(photo),
        sha256=_sha256(photo),
        family="image",
        format="jpeg",
        mime="image/jpeg",
        uploaded_at=timezone.now(),
    )
    work_file.original.save("harbour.jpg", ContentFile(photo))
    _run()

    settings.MEDIA_STORAGE = "s3"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "accounts.bucket.BucketStorage", "OPTIONS": bucket.options},
    }
    work_file.refresh_from_db()
    assert work_file.original.storage.bucket_name == bucket.name  # read from the bucket now
    url = reverse("works:original", args=[work.public_id])

    client.force_login(other_creator)
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    client.force_login(creator)
    got = download(client, url)
    assert got.via_bucket and got.status == HTTPStatus.OK
    assert got.body == photo
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["Content-Type"] == "image/jpeg"
