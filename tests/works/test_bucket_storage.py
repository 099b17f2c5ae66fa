"""Works' files in an S3-compatible bucket (moto's standalone server over HTTP, the real boto3
client, a real Celery worker): an upload lands in the bucket and the worker fingerprints it from
there; the original reaches only its owner, through a signed link that names that one object and
expires within minutes; a ZIP import unpacks from the bucket; the bucket unreachable or hung at
upload time gives the creator a clear message, promptly, and keeps nothing; a worker that cannot
read the file tries again, then refuses it with the reason."""

import hashlib
import io
import socket
import threading
import time
import urllib.request
import zipfile
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.urls import reverse
from PIL import Image

from portal.celery import app as celery_app
from tests.services import WorkerProcess, free_port, wait_for
from tests.storage import worker_storage_env
from tests.works import files
from works.models import ImportJob, Work, WorkFile
from works.services import UNREADABLE

pytestmark = pytest.mark.worker


def _options(settings) -> dict:
    return settings.STORAGES["default"]["OPTIONS"]


def bucket_keys(settings) -> list[str]:
    """Every object under this test's prefix, listed by the bucket itself."""
    options = _options(settings)
    client = boto3.client(
        "s3",
        endpoint_url=options["endpoint_url"],
        region_name=options["region_name"],
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
    )
    answer = client.list_objects_v2(Bucket=options["bucket_name"], Prefix=options["location"] + "/")
    return sorted(item["Key"] for item in answer.get("Contents", []))


def _bucket_at(settings, endpoint_url: str, **changes) -> None:
    """Point the portal's storage at another address (a dead or hung 'bucket')."""
    default = settings.STORAGES["default"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **default,
            "OPTIONS": {**default["OPTIONS"], "endpoint_url": endpoint_url, **changes},
        },
    }


def _post_upload(client, path, title="Pier"):
    with open(path, "rb") as handle:
        return client.post(
            reverse("works:create"), {"title": title, "kind": "photograph", "file": handle}
        )


def _processed(celery_worker):
    def done():
        work_file = WorkFile.objects.get()
        return work_file if work_file.status != WorkFile.Status.PROCESSING else None

    try:
        return wait_for(done, timeout=40, what="the worker to process the image")
    except AssertionError:
        raise AssertionError(celery_worker.log().decode(errors="replace")[-3000:]) from None


def test_an_upload_lands_in_the_bucket_and_its_owner_downloads_it_by_a_short_signed_link(
    bucket_storage, celery_worker, client, creator, other_creator, tmp_path, settings
):
    client.force_login(creator)
    path = files.make_jpeg(tmp_path / "pier.jpg", size=(2000, 1400), seed=21)
    assert _post_upload(client, path).status_code == HTTPStatus.FOUND

    work_file = _processed(celery_worker)
    assert work_file.status == WorkFile.Status.READY, work_file.error
    prefix = _options(settings)["location"]
    assert bucket_keys(settings) == sorted(
        [f"{prefix}/{work_file.original.name}", f"{prefix}/{work_file.thumbnail.name}"]
    )
    public_id = work_file.work.public_id

    # The thumbnail is streamed through the portal (its pages need no other origin).
    thumb = client.get(reverse("works:thumbnail", args=[public_id]))
    assert thumb.status_code == HTTPStatus.OK and thumb["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(thumb.streaming_content))) as image:
        assert max(image.size) == settings.WORKS_THUMBNAIL_SIZE

    # The original: a redirect to a signed link for that one object, valid for minutes.
    response = client.get(reverse("works:original", args=[public_id]))
    assert response.status_code == HTTPStatus.FOUND
    assert "no-store" in response["Cache-Control"]
    link = urlsplit(response["Location"])
    assert f"{link.scheme}://{link.netloc}" == _options(settings)["endpoint_url"]
    bucket = _options(settings)["bucket_name"]
    assert link.path == f"/{bucket}/{prefix}/{work_file.original.name}"
    query = {name: values[0] for name, values in parse_qs(link.query).items()}
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert int(query["X-Amz-Expires"]) == settings.MEDIA_BUCKET_OPTIONS["querystring_expire"]
    assert int(query["X-Amz-Expires"]) <= 300
    assert query["response-content-disposition"].startswith("attachment;")
    assert 'filename="pier.jpg"' in query["response-content-disposition"]
    assert query["response-content-type"] == "image/jpeg"
    with urllib.request.urlopen(response["Location"], timeout=10) as answer:
        body = answer.read()
        assert answer.headers["Content-Disposition"].startswith("attachment;")
        assert answer.headers["Content-Type"] == "image/jpeg"
    assert (
        hashlib.sha256(body).hexdigest()
        == work_file.sha256
        == hashlib.sha256(path.read_bytes()).hexdigest()
    )

    # Nobody else is given a link.
    client.force_login(other_creator)
    other = client.get(reverse("works:original", args=[public_id]))
    assert other.status_code == HTTPStatus.NOT_FOUND and "Location" not in other
    client.logout()
    anonymous = client.get(reverse("works:original", args=[public_id]))
    assert anonymous.status_code == HTTPStatus.FOUND
    assert anonymous["Location"].startswith(reverse("account_login"))


def test_a_zip_import_is_unpacked_from_the_bucket_by_the_worker(
    bucket_storage, celery_worker, client, creator, tmp_path, settings
):
    photo = files.make_jpeg(tmp_path / "dawn.jpg", size=(900, 600), seed=5)
    book = files.make_pdf(tmp_path / "book.pdf", text="The Quiet Harbour")
    archive = tmp_path / "catalogue.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(photo, "photos/dawn.jpg")
        zipped.write(book, "books/book.pdf")
    client.force_login(creator)
    with open(archive, "rb") as handle:
        response = client.post(reverse("works:import-create"), {"kind": "zip", "file": handle})
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]

    def finished():
        job = ImportJob.objects.get()
        return job if job.finished_at else None

    try:
        job = wait_for(finished, timeout=60, what="the worker to run the import")
    except AssertionError:
        raise AssertionError(celery_worker.log().decode(errors="replace")[-3000:]) from None
    assert job.error == "", job.error
    stored = {w.file.original_name: w.file for w in Work.objects.select_related("file")}
    assert set(stored) == {"dawn.jpg", "book.pdf"}
    assert stored["book.pdf"].sha256 == hashlib.sha256(book.read_bytes()).hexdigest()
    prefix = _options(settings)["location"]
    keys = bucket_keys(settings)
    assert f"{prefix}/{stored['book.pdf'].original.name}" in keys
    assert f"{prefix}/{stored['dawn.jpg'].original.name}" in keys


def test_an_upload_while_the_bucket_is_unreachable_is_refused_clearly_and_keeps_nothing(
    bucket_storage, client, creator, tmp_path, settings
):
    live = settings.STORAGES["default"]
    client.force_login(creator)
    _bucket_at(settings, f"http://127.0.0.1:{free_port()}", max_attempts=1)

    response = _post_upload(client, files.make_jpeg(tmp_path / "pier.jpg", seed=2))

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"]
    page = response.content.decode()
    assert "The file store is not answering just now, so nothing was saved." in page
    assert not Work.objects.exists() and not WorkFile.objects.exists()
    settings.STORAGES = {**settings.STORAGES, "default": live}
    assert bucket_keys(settings) == []


@pytest.fixture
def hung_bucket():
    """A server that accepts connections and never answers (a bucket that hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_an_upload_while_the_bucket_hangs_answers_within_its_timeouts(
    bucket_storage, client, creator, tmp_path, settings, hung_bucket
):
    client.force_login(creator)
    _bucket_at(settings, hung_bucket, max_attempts=1, connect_timeout=1, read_timeout=1)
    started = time.monotonic()

    response = _post_upload(client, files.make_jpeg(tmp_path / "pier.jpg", seed=3))

    # Every request to the bucket is bounded (MEDIA_BUCKET_*_TIMEOUT): the page answers.
    assert time.monotonic() - started < 20
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "nothing was saved" in response.content.decode()
    assert not Work.objects.exists()


def test_a_worker_that_cannot_read_the_file_tries_again_then_refuses_it_with_the_reason(
    bucket_storage, transactional_db, broker_env, client, creator, tmp_path, settings, smtp_server
):
    # The web process stores the upload in the bucket; the worker's address for the bucket
    # is dead, so each of its reads fails.
    storage_env = worker_storage_env(settings)
    storage_env["MEDIA_BUCKET_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    worker = WorkerProcess(
        broker_env,
        extra_env={
            **storage_env,
            "MEDIA_BUCKET_MAX_ATTEMPTS": "1",
            "WORKS_STORAGE_RETRY_DELAYS": "1,1",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_server.port),
            "CONSENT_ANCHOR_LOG": str(settings.CONSENT_ANCHOR_LOG),
        },
        log_path=tmp_path / "worker.log",
    )
    celery_app.conf.task_always_eager = False
    try:
        worker.start()
        client.force_login(creator)
        assert _post_upload(client, files.make_jpeg(tmp_path / "pier.jpg", seed=4)).status_code == (
            HTTPStatus.FOUND
        )
        work_file = _processed(worker)
    finally:
        celery_app.conf.task_always_eager = True
        worker.stop()

    assert work_file.status == WorkFile.Status.FAILED
    assert work_file.error == UNREADABLE
    log = worker.log().decode(errors="replace")
    assert log.count("Retry in 1s") == 2, log[-3000:]
    page = client.get(reverse("works:detail", args=[work_file.work.public_id])).content.decode()
    assert "could not be read back from the file store" in page


def _silent_wav(path, megabytes: int):
    """A real WAV file of about ``megabytes`` MiB (silence: quick to make)."""
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(bytes(megabytes * 1024 * 1024))
    return path


def _upload_recording(client, path):
    with open(path, "rb") as handle:
        fields = {"title": "Field recording", "kind": "recording", "file": handle}
        return client.post(reverse("works:create"), fields)


def _client(settings):
    options = _options(settings)
    return boto3.client(
        "s3",
        endpoint_url=options["endpoint_url"],
        region_name=options["region_name"],
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
    )


def test_a_large_upload_goes_to_the_bucket_in_parts_and_arrives_whole(
    bucket_storage, client, creator, tmp_path, settings
):
    path = _silent_wav(tmp_path / "field.wav", 19)
    client.force_login(creator)
    assert _upload_recording(client, path).status_code == HTTPStatus.FOUND

    work_file = WorkFile.objects.get()
    options = _options(settings)
    key = f"{options['location']}/{work_file.original.name}"
    answer = _client(settings).get_object(Bucket=options["bucket_name"], Key=key)
    digest = hashlib.sha256()
    for chunk in answer["Body"].iter_chunks(1 << 20):
        digest.update(chunk)
    assert digest.hexdigest() == work_file.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    # A multipart upload's ETag ends in "-<number of parts>": three parts of at most 8 MiB.
    assert answer["ETag"].strip('"').endswith("-3")


class CuttingProxy:
    """A TCP proxy in front of the bucket that cuts the connection carrying the request bytes
    past ``cut_after`` — once — then forwards normally again (a network fault mid-upload)."""

    def __init__(self, upstream_port: int, cut_after: int):
        self.upstream_port, self.cut_after = upstream_port, cut_after
        self.sent, self.cut = 0, False
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn = self.listener.accept()[0]
            except OSError:
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(conn, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, conn, False), daemon=True).start()

    def _pump(self, source, target, counted):
        try:
            while data := source.recv(65536):
                if counted:
                    with self.lock:
                        self.sent += len(data)
                        cut = not self.cut and self.sent > self.cut_after
                        self.cut = self.cut or cut
                    if cut:
                        for sock in (source, target):
                            sock.shutdown(socket.SHUT_RDWR)
                        return
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.close()
                except OSError:
                    pass

    def stop(self):
        self.stopped.set()
        self.listener.close()


def test_an_upload_cut_off_midway_leaves_no_object_and_no_unfinished_upload(
    bucket_storage, client, creator, tmp_path, settings
):
    live = _options(settings)
    proxy = CuttingProxy(urlsplit(live["endpoint_url"]).port, cut_after=12 * 1024 * 1024)
    _bucket_at(settings, proxy.url, max_attempts=1)
    client.force_login(creator)
    try:
        response = _upload_recording(client, _silent_wav(tmp_path / "field.wav", 19))
    finally:
        proxy.stop()

    assert proxy.cut
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "nothing was saved" in response.content.decode()
    assert not Work.objects.exists()
    _bucket_at(settings, live["endpoint_url"])
    assert bucket_keys(settings) == []
    unfinished = _client(settings).list_multipart_uploads(
        Bucket=live["bucket_name"], Prefix=live["location"] + "/"
    )
    assert unfinished.get("Uploads", []) == []
