"""Notice attachments live in the portal's file storage (a folder, or the bucket), not in the
database: stored once per content, written so that nothing is left half-done when the store
or the transaction fails, read once per delivery batch, streamed by the developer API, and
moved there from the database by a migration."""

import hashlib
import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.storage import StorageUnavailable
from notices import attachments, deliveries
from notices.models import AttachmentBlob, Delivery, DeliveryAttempt, Notice
from notices.services import api_key_create, notice_create
from tests import factories
from tests.services import free_port, wait_for
from tests.storage import PathlessFolderStorage

MANIFEST = json.dumps(
    {"works": [{"title": f"Work {i}", "isbn": f"97800000{i:05d}"} for i in range(400)]}
)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stored_names(storage) -> set[str]:
    """Every stored attachment file's name."""
    try:
        folders, _ = storage.listdir(attachments.FOLDER)
    except FileNotFoundError:
        return set()
    names = set()
    for folder in folders:
        _, files = storage.listdir(f"{attachments.FOLDER}/{folder}")
        names |= {f"{attachments.FOLDER}/{folder}/{name}" for name in files}
    return names


def _payload(part) -> bytes:
    return part.get_payload(decode=True)


def _read(storage, name: str) -> bytes:
    with storage.open(name, "rb") as handle:
        return handle.read()


class WatchedStorage(PathlessFolderStorage):
    """The tests' folder storage, counting the files read from it; it can stop answering after
    a number of writes (``StorageUnavailable``, as the bucket's does), or let another caller's
    write land first (``before_write``)."""

    streams = 0
    writes_left: int | None = None
    before_write = None

    def stream(self, name):
        WatchedStorage.streams += 1
        return super().stream(name)

    def _save(self, name, content):
        hook, WatchedStorage.before_write = WatchedStorage.before_write, None
        if hook is not None:
            hook()
        if WatchedStorage.writes_left is not None:
            if WatchedStorage.writes_left <= 0:
                raise StorageUnavailable("The file store did not answer (test).")
            WatchedStorage.writes_left -= 1
        return super()._save(name, content)


@pytest.fixture
def watched_storage(settings):
    WatchedStorage.streams = 0
    WatchedStorage.writes_left = None
    WatchedStorage.before_write = None
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.notices.test_attachment_storage.WatchedStorage"},
    }
    from django.core.files.storage import default_storage

    return default_storage


def _store_down(settings) -> None:
    """The bucket stops answering: the default storage now points at a port nobody listens on."""
    options = {
        **settings.STORAGES["default"]["OPTIONS"],
        "endpoint_url": f"http://127.0.0.1:{free_port()}",
        "max_attempts": 1,
        "connect_timeout": 1.0,
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": options},
    }


def _store_back(settings, options: dict) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": options},
    }


def _create(developer, key, files, **fields):
    with transaction.atomic():
        return notice_create(
            developer=developer,
            topic=key,
            key=key,
            subject="Removal request",
            text="Please remove these works.",
            attachments=files,
            **fields,
        )


# --- Writing -------------------------------------------------------------------------------------


def test_attachments_are_files_in_the_storage_stored_once_per_content(
    developer, contact, watched_storage
):
    first = _create(developer, "t:1", [("works.json", MANIFEST, "application/json")])
    second = _create(
        developer,
        "t:2",
        [("works.json", MANIFEST, "application/json"), ("works.csv", b"title\r\n", "text/csv")],
    )

    blob = AttachmentBlob.objects.get(sha256=_sha(MANIFEST.encode()))
    assert first.attachments.get().blob == second.attachments.get(filename="works.json").blob
    assert AttachmentBlob.objects.count() == 2
    assert _stored_names(watched_storage) == set(
        AttachmentBlob.objects.values_list("file", flat=True)
    )
    assert blob.file.name.startswith(f"notice-attachments/{blob.sha256[:2]}/{blob.sha256}-")
    assert _read(watched_storage, blob.file.name) == MANIFEST.encode()
    assert blob.size == len(MANIFEST.encode())
    assert second.attachments.get(filename="works.csv").content == b"title\r\n"


def test_the_store_refusing_a_write_creates_no_notice_and_leaves_no_file(
    developer, contact, watched_storage
):
    WatchedStorage.writes_left = 1  # the first file is written, the second is refused

    with pytest.raises(StorageUnavailable):
        _create(
            developer,
            "t:1",
            [("works.json", MANIFEST, "application/json"), ("works.csv", b"a,b\r\n", "text/csv")],
        )

    assert not Notice.objects.exists()
    assert not AttachmentBlob.objects.exists()
    assert not Delivery.objects.exists()
    assert _stored_names(watched_storage) == set()  # the one written was deleted again

    WatchedStorage.writes_left = None  # the store is back: the same call now succeeds
    notice = _create(developer, "t:1", [("works.json", MANIFEST, "application/json")])
    assert notice.attachments.get().content == MANIFEST.encode()


def test_of_two_callers_storing_the_same_bytes_one_row_wins_and_no_file_is_left_over(
    developer, contact, other_developer, watched_storage
):
    # Another caller stores the same manifest after this one looked for it and before this
    # one records it: its row is there first.
    other = []
    WatchedStorage.before_write = lambda: other.append(
        _create(other_developer, "other:1", [("works.json", MANIFEST, "application/json")])
    )

    mine = _create(developer, "mine:1", [("manifest.json", MANIFEST, "application/json")])

    [theirs] = other
    blob = AttachmentBlob.objects.get()
    assert mine.attachments.get().blob == theirs.attachments.get().blob == blob
    assert _stored_names(watched_storage) == {blob.file.name}  # the loser's file is gone
    assert mine.attachments.get().content == MANIFEST.encode()


def test_a_callers_rollback_leaves_a_file_that_the_orphan_sweep_deletes(
    developer, contact, watched_storage
):
    kept = _create(developer, "t:kept", [("works.json", MANIFEST, "application/json")])
    with pytest.raises(RuntimeError), transaction.atomic():
        _create(developer, "t:rolled-back", [("works.csv", b"title\r\nGone\r\n", "text/csv")])
        raise RuntimeError("the caller's own transaction fails after notice_create")
    kept_name = kept.attachments.get().blob.file.name
    assert len(_stored_names(watched_storage)) == 2

    # A file younger than the grace period may belong to a transaction still running.
    assert attachments.orphans_delete() == 0
    assert attachments.orphans_delete(now=timezone.now() + timedelta(days=2)) == 1

    assert _stored_names(watched_storage) == {kept_name}
    assert kept.attachments.get().content == MANIFEST.encode()


def test_beat_deletes_orphaned_attachment_files_daily(settings):
    from notices import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["notices-attachment-orphans"]
    assert entry["task"] == tasks.attachment_orphans_delete.name
    assert entry["schedule"] == 86400.0


def test_a_reminder_carries_its_notices_stored_files_without_writing_them_again(
    developer, contact, watched_storage
):
    from notices.deadlines import reminder_create

    notice = _create(
        developer,
        "t:1",
        [("works.json", MANIFEST, "application/json")],
        answer_due_at=timezone.now() + timedelta(days=14),
    )
    names = _stored_names(watched_storage)
    WatchedStorage.streams = 0

    with transaction.atomic():
        reminder = reminder_create(notice, 3 * 86400)

    assert reminder.attachments.get().blob == notice.attachments.get().blob
    assert _stored_names(watched_storage) == names
    assert WatchedStorage.streams == 0


# --- Reading in the delivery engine --------------------------------------------------------------


def test_a_batch_reads_a_shared_attachment_from_storage_once(
    smtp, make_notice, developer, watched_storage, settings
):
    for n in range(2, 6):
        factories.DeveloperContactFactory(developer=developer, email=f"legal{n}@example-ai.example")
    notices = [
        make_notice(attachments=[("works.json", MANIFEST, "application/json")]) for _ in range(3)
    ]
    ids = list(Delivery.objects.filter(notice__in=notices).values_list("pk", flat=True))
    assert len(ids) == 15
    WatchedStorage.streams = 0

    results = deliveries.attempt_many(delivery_ids=ids)

    assert set(results.values()) == {Delivery.Status.DELIVERED}
    assert len(smtp.messages) == 15
    for message in smtp.messages:
        [attached] = list(message.iter_attachments())
        assert _payload(attached) == MANIFEST.encode()
    assert WatchedStorage.streams == 1


def test_a_batch_keeps_no_more_than_its_memory_budget(watched_storage, developer, contact):
    notice = _create(
        developer,
        "t:1",
        [("a.json", MANIFEST, "application/json"), ("b.csv", b"x" * 1000, "text/csv")],
    )
    blobs = [a.blob for a in notice.attachment_list()]
    reads = attachments.BatchReads(keep_bytes=len(MANIFEST) + 10)
    reads.uses.update([b.pk for b in blobs] * 3)

    for _ in range(3):
        assert [reads.read(b) for b in blobs] == [MANIFEST.encode(), b"x" * 1000]
        assert reads.kept_bytes <= len(MANIFEST) + 10

    assert WatchedStorage.streams == 4  # the manifest once, the CSV (over budget) each time
    assert reads.kept == {}  # nothing kept once the batch's last delivery has read it


# --- On the bucket -------------------------------------------------------------------------------


def _bucket_keys(storage) -> set[str]:
    client = storage.connection.meta.client
    listed = client.list_objects_v2(Bucket=storage.bucket_name, Prefix=storage.location + "/")
    return {item["Key"] for item in listed.get("Contents", [])}


@pytest.mark.worker
def test_an_attachment_goes_from_the_bucket_to_the_developers_mailbox_through_a_worker(
    bucket_storage, celery_worker, smtp_server, developer, contact
):
    data = MANIFEST.encode() + bytes(range(256)) * 4000  # about 1 MB, not all text

    notice = _create(
        developer, "removal:1:developer:1", [("works.bin", data, "application/octet-stream")]
    )

    blob = AttachmentBlob.objects.get()
    assert _bucket_keys(bucket_storage) == {bucket_storage.key(blob.file.name)}
    messages = wait_for(lambda: smtp_server.messages, timeout=30, what="the notice's email")
    [message] = messages
    [attached] = list(message.iter_attachments())
    assert attached.get_filename() == "works.bin"
    assert _payload(attached) == data
    delivery = notice.deliveries.get()
    wait_for(
        lambda: Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.DELIVERED,
        timeout=30,
        what="the delivery recorded",
    )


@pytest.fixture
def api(developer_user, developer):
    _, clear = api_key_create(actor=developer_user, developer=developer, name="pipeline")
    return Client(HTTP_AUTHORIZATION=f"Bearer {clear}")


def _attachment_url(notice) -> str:
    attachment = notice.attachments.get()
    return reverse("notices-api:notice-attachment", args=[notice.pk, attachment.pk])


def test_the_api_streams_an_attachment_from_the_bucket_with_its_digest(
    bucket_storage, api, developer, contact
):
    data = bytes(range(256)) * 12000  # 3 MB
    notice = _create(developer, "t:1", [("works.csv", data, "text/csv")])

    response = api.get(_attachment_url(notice))

    assert response.status_code == HTTPStatus.OK
    assert response.streaming  # through the portal, not held whole in memory
    body = b"".join(response.streaming_content)
    assert body == data
    assert response["X-Content-SHA256"] == _sha(body)
    assert response["Content-Length"] == str(len(data))
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="works.csv"'


def test_the_api_says_503_when_the_bucket_does_not_answer(
    bucket_storage, api, developer, contact, settings
):
    notice = _create(developer, "t:1", [("works.json", MANIFEST, "application/json")])
    _store_down(settings)

    response = api.get(_attachment_url(notice))

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == "60"
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert "file store is not answering" in response.json()["error"]["message"]


def test_the_api_says_404_when_the_file_is_missing_from_the_bucket(
    bucket_storage, api, developer, contact
):
    notice = _create(developer, "t:1", [("works.json", MANIFEST, "application/json")])
    bucket_storage.delete(notice.attachments.get().blob.file.name)

    response = api.get(_attachment_url(notice))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]["code"] == "attachment_file_missing"


def test_a_bucket_down_when_the_notice_is_created_leaves_nothing(
    bucket_storage, developer, contact, settings
):
    _store_down(settings)

    with pytest.raises(StorageUnavailable):
        _create(developer, "t:1", [("works.json", MANIFEST, "application/json")])

    assert not Notice.objects.exists() and not AttachmentBlob.objects.exists()


def test_a_bucket_down_at_delivery_is_a_temporary_failure_retried_until_it_is_back(
    bucket_storage, smtp, developer, contact, settings
):
    notice = _create(developer, "t:1", [("works.json", MANIFEST, "application/json")])
    delivery = notice.deliveries.get()
    options = settings.STORAGES["default"]["OPTIONS"]
    _store_down(settings)

    status = deliveries.attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert status == Delivery.Status.QUEUED  # not failed, not lost
    assert delivery.next_attempt_at > timezone.now()  # on the usual back-off
    assert "file store did not answer" in delivery.last_error
    attempt = delivery.attempt_log.get()
    assert attempt.result == DeliveryAttempt.Result.TEMPORARY
    assert smtp.messages == []

    _store_back(settings, options)
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(hours=1)
    )
    assert deliveries.sweep() == 1  # the sweep finds it due (run eagerly here)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED
    [message] = smtp.messages
    [attached] = list(message.iter_attachments())
    assert _payload(attached) == MANIFEST.encode()


def test_a_missing_file_at_delivery_is_a_temporary_failure_staff_can_see(
    bucket_storage, smtp, developer, contact
):
    notice = _create(developer, "t:1", [("works.json", MANIFEST, "application/json")])
    bucket_storage.delete(notice.attachments.get().blob.file.name)

    status = deliveries.attempt(delivery_id=notice.deliveries.get().pk)

    delivery = notice.deliveries.get()
    assert status == Delivery.Status.QUEUED
    assert "stored file is missing" in delivery.last_error
    assert smtp.messages == []


# --- The migration -------------------------------------------------------------------------------

BEFORE = ("notices", "0005_attachment_blobs")
AFTER = ("notices", "0006_attachment_files")


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_each_blobs_bytes_from_the_database_to_the_bucket(bucket_storage):
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([BEFORE])
        old = executor.loader.project_state([BEFORE]).apps.get_model("notices", "AttachmentBlob")
        contents = [MANIFEST.encode(), b"title\r\nA\r\n"]
        pks = [
            old.objects.create(sha256=_sha(data), content=data, size=len(data)).pk
            for data in contents
        ]

        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])

        for pk, data in zip(pks, contents, strict=True):
            blob = AttachmentBlob.objects.get(pk=pk)
            assert blob.file.name.startswith(f"notice-attachments/{blob.sha256[:2]}/")
            assert _read(bucket_storage, blob.file.name) == data
            assert blob.size == len(data)
        assert _bucket_keys(bucket_storage) == {
            bucket_storage.key(name)
            for name in AttachmentBlob.objects.values_list("file", flat=True)
        }
        with connection.cursor() as cursor:
            columns = [
                c.name
                for c in connection.introspection.get_table_description(
                    cursor, AttachmentBlob._meta.db_table
                )
            ]
        assert "content" not in columns

        # Backwards: the bytes come back into the database.
        executor = MigrationExecutor(connection)
        executor.migrate([BEFORE])
        old = executor.loader.project_state([BEFORE]).apps.get_model("notices", "AttachmentBlob")
        assert [bytes(old.objects.get(pk=pk).content) for pk in pks] == contents
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)


@pytest.mark.django_db(transaction=True)
def test_a_migration_that_fails_midway_leaves_no_file_and_the_bytes_in_the_database(
    watched_storage,
):
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([BEFORE])
        old = executor.loader.project_state([BEFORE]).apps.get_model("notices", "AttachmentBlob")
        for data in (b"one", b"two", b"three"):
            old.objects.create(sha256=_sha(data), content=data, size=len(data))
        WatchedStorage.writes_left = 2

        executor = MigrationExecutor(connection)
        with pytest.raises(StorageUnavailable):
            executor.migrate([AFTER])

        assert _stored_names(watched_storage) == set()
        assert sorted(bytes(b.content) for b in old.objects.all()) == [b"one", b"three", b"two"]
        WatchedStorage.writes_left = None
    finally:
        WatchedStorage.writes_left = None
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
