"""Where notice attachments' bytes live: in the portal's file storage (a folder, or the bucket
with ``MEDIA_STORAGE=s3``), one stored file per distinct content (``AttachmentBlob``, unique
by SHA-256), read back through ``accounts.storage`` and never by a filesystem path.

- **Writing** (``blob_for``): inside ``notice_create``'s transaction. A new content gets a
  file of its own name (``notice-attachments/<sha[:2]>/<sha>-<random>``) and then its row;
  the unique SHA-256 row decides between two callers storing the same bytes at once, and the
  one that lost deletes its own file at once. Names are never shared between writers, so a
  file is only ever deleted by the one call that wrote it (``accounts.storage.StoredFiles``): a
  failed or rolled-back call removes exactly what it wrote, never a file another notice relies
  on.
- **Reading** (``BatchReads``): the delivery engine sends the same manifest to many
  developers, so a batch reads each stored file once and keeps its bytes — within
  ``KEEP_BYTES`` — only while a later delivery of the batch still needs them. Once the store
  failed to answer, the rest of the batch fails at once instead of waiting for it again.
- **Orphans** (``orphans_delete``): a file whose transaction rolled back *after*
  ``notice_create`` returned (the caller's own transaction failed later) has no row; the
  daily sweep deletes such files once they are a day old.
"""

import hashlib
import logging
import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from accounts import storage as stored_files
from accounts.storage import StorageUnavailable, StoredFiles

from .models import AttachmentBlob

logger = logging.getLogger(__name__)

FOLDER = "notice-attachments"

# What one delivery batch keeps in memory of the attachments its later deliveries still need.
KEEP_BYTES = 32 << 20


def blob_name(sha256: str) -> str:
    """A new stored file's name for content ``sha256``: the digest, for whoever looks at the
    store, and a random part, so two writers of the same bytes never share a name."""
    return f"{FOLDER}/{sha256[:2]}/{sha256}-{secrets.token_hex(6)}"


def attachment_storage():
    return AttachmentBlob._meta.get_field("file").storage


# --- Writing -------------------------------------------------------------------------------------


def _delete_quietly(name: str) -> None:
    try:
        attachment_storage().delete(name)
    except OSError:  # the store is down: the orphan sweep deletes it later
        logger.warning("Could not delete the stored attachment %s", name, exc_info=True)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blobs_for(by_digest: dict[str, bytes], *, written: StoredFiles) -> dict[str, AttachmentBlob]:
    """``{sha256: blob}`` for these contents (``{sha256: bytes}``): the stored ones as they
    are, the others written to storage and recorded. Call it inside a transaction. Raises
    ``StorageUnavailable`` (or another ``OSError``) if the store refuses a write: ``written``
    then deletes what this call wrote, and the transaction's rollback the rows."""
    if not by_digest:
        return {}
    blobs = {b.sha256: b for b in AttachmentBlob.objects.filter(sha256__in=list(by_digest))}
    missing = [digest for digest in by_digest if digest not in blobs]
    if not missing:
        return blobs
    new = []
    for digest in missing:
        data = by_digest[digest]
        name = attachment_storage().save(blob_name(digest), ContentFile(data))
        written.names.append(name)
        new.append(AttachmentBlob(sha256=digest, file=name, size=len(data)))
    # The same bytes stored at once by another call: the row that is there first wins (on
    # PostgreSQL this insert waits for that call's transaction to end), and this call's file
    # for them, which nothing names, is deleted at once.
    AttachmentBlob.objects.bulk_create(new, ignore_conflicts=True)
    stored = {b.sha256: b for b in AttachmentBlob.objects.filter(sha256__in=missing)}
    for blob in new:
        if stored[blob.sha256].file.name != blob.file.name:
            written.names.remove(blob.file.name)
            _delete_quietly(blob.file.name)
    blobs.update(stored)
    return blobs


# --- Reading -------------------------------------------------------------------------------------


def read(blob: AttachmentBlob) -> bytes:
    """The stored bytes of ``blob`` (through the batch's ``BatchReads`` when inside one).
    Raises ``FileNotFoundError`` when the file is missing from storage and
    ``StorageUnavailable`` when the store does not answer."""
    reads = _batch.get()
    if reads is not None:
        return reads.read(blob)
    return _read(blob)


def _read(blob: AttachmentBlob) -> bytes:
    with stored_files.opened(blob.file) as stream:
        return stream.read()


class BatchReads:
    """A delivery batch's attachment reads: each stored file read once, its bytes kept while a
    later delivery of the batch still needs them and they fit in ``keep_bytes``."""

    def __init__(self, *, keep_bytes: int = KEEP_BYTES):
        self.uses: Counter[int] = Counter()  # reads still to come, per blob
        self.kept: dict[int, bytes] = {}
        self.kept_bytes = 0
        self.keep_bytes = keep_bytes
        self.reads = 0  # from storage (for tests and logs)
        self.unavailable: StorageUnavailable | None = None

    def expect(self, deliveries) -> None:
        """Count the reads to come: these deliveries' attachments (prefetched with their
        notices, as ``deliveries._load`` does)."""
        self.uses.update(
            attachment.blob_id
            for delivery in deliveries
            for attachment in delivery.notice.attachment_list()
        )

    def read(self, blob: AttachmentBlob) -> bytes:
        self.uses[blob.pk] -= 1
        data = self.kept.get(blob.pk)
        if data is None:
            if self.unavailable is not None:  # the store already failed in this batch
                raise StorageUnavailable(str(self.unavailable))
            try:
                data = _read(blob)
            except StorageUnavailable as exc:
                self.unavailable = exc
                raise
            self.reads += 1
            if self.uses[blob.pk] > 0 and self.kept_bytes + len(data) <= self.keep_bytes:
                self.kept[blob.pk] = data
                self.kept_bytes += len(data)
        elif self.uses[blob.pk] <= 0:  # its last use in this batch
            del self.kept[blob.pk]
            self.kept_bytes -= len(data)
        return data


_batch: ContextVar[BatchReads | None] = ContextVar("notice_attachment_reads", default=None)


@contextmanager
def batch_reads(*, keep_bytes: int = KEEP_BYTES) -> Iterator[BatchReads]:
    """Inside: ``read`` goes through one ``BatchReads`` (tell it what is coming with
    ``expect``)."""
    reads = BatchReads(keep_bytes=keep_bytes)
    token = _batch.set(reads)
    try:
        yield reads
    finally:
        _batch.reset(token)


# --- Orphans -------------------------------------------------------------------------------------


def orphans_delete(*, older_than: timedelta = timedelta(days=1), now=None) -> int:
    """Delete stored attachment files that no blob row names and that are older than
    ``older_than`` (a younger one may belong to a transaction still running): what a caller's
    transaction that rolled back after ``notice_create`` had returned left behind. Returns how
    many were deleted."""
    storage = attachment_storage()
    cutoff = (now or timezone.now()) - older_than
    deleted = 0
    try:
        folders, _ = storage.listdir(FOLDER)
    except FileNotFoundError:  # nothing stored yet
        return 0
    for folder in folders:
        _, files = storage.listdir(f"{FOLDER}/{folder}")
        names = {f"{FOLDER}/{folder}/{name}" for name in files}
        if not names:
            continue
        listed = sorted(names)
        known = set()
        for start in range(0, len(listed), 500):
            known.update(
                AttachmentBlob.objects.filter(file__in=listed[start : start + 500]).values_list(
                    "file", flat=True
                )
            )
        for name in sorted(names - known):
            try:
                if storage.get_modified_time(name) >= cutoff:
                    continue
            except Exception:  # gone meanwhile, or the store did not answer: next time
                continue
            storage.delete(name)
            deleted += 1
    if deleted:
        logger.info("Deleted %d stored attachment files that no notice holds", deleted)
    return deleted
