"""Files kept while "Register a work" is sent again.

A creator who chose a file and made a mistake in another field (or was told the work may
already be in their catalogue) should not have to find the file again. The form's file, already
vetted while it streamed in (``works.uploads``), is checked by its content as a work's file is
(``vet_upload``: a disguised name, truncation, a decompression bomb) and then kept in the file
store as a ``PendingUpload`` of that creator, named to the page by an unguessable token. Sending
the form again without choosing a file registers the work with the kept one; a token that is
not the creator's own, is forged or is too old is refused with a message and changes nothing.

Pending files live in the default storage under ``pending/<owner id>/``; each creator has at
most ``WORKS_PENDING_UPLOADS_PER_CREATOR`` (the oldest go first), each for
``WORKS_PENDING_UPLOAD_MAX_AGE`` seconds, after which the works sweep deletes them.
"""

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts import storage as stored_files
from accounts.models import User
from accounts.storage import StoredFiles

from . import fingerprints, services
from .models import PendingUpload, Work
from .uploads import over_quota_message

logger = logging.getLogger(__name__)

KEPT_FILE_GONE = (
    "The file you chose before is no longer kept (it is kept for a day): please choose it again."
)


def _cutoff(now=None):
    return (now or timezone.now()) - timedelta(seconds=settings.WORKS_PENDING_UPLOAD_MAX_AGE)


def pending_upload_keep(*, owner: User, upload: UploadedFile) -> PendingUpload:
    """Keep ``upload`` (from the vetting handler) for ``owner``. Checks its content first, as a
    work's file: raises ``ValidationError`` (nothing kept) for a file that would be refused."""
    filetype, _ = services.vet_upload(upload)
    with StoredFiles() as stored, transaction.atomic():
        pending = PendingUpload(
            owner=owner,
            original_name=(upload.name or "upload")[:255],
            size=upload.size,
            sha256=getattr(upload, "sha256", None)
            or fingerprints.sha256_file(upload.temporary_file_path()),
            mime=filetype.mime,
        )
        upload.seek(0)
        pending.file.save(f"upload{filetype.extensions[0]}", upload, save=False)
        stored.names.append(pending.file.name)
        pending.save()
        keep = settings.WORKS_PENDING_UPLOADS_PER_CREATOR
        older = PendingUpload.objects.filter(owner=owner).exclude(pk=pending.pk)
        for old in older.order_by("-created_at", "-pk")[max(keep - 1, 0) :]:
            _discard(old)
    return pending


def pending_upload_for(*, owner: User, token: str) -> PendingUpload:
    """The creator's own kept file named by ``token``, if it is still kept; otherwise
    ``ValidationError`` — the same for a forged token, another creator's and an expired one."""
    pending = (
        PendingUpload.objects.filter(owner=owner, token=token or "", created_at__gte=_cutoff())
        .order_by()
        .first()
    )
    if pending is None:
        raise ValidationError(KEPT_FILE_GONE, code="kept_file_gone")
    return pending


@contextmanager
def pending_upload_opened(pending: PendingUpload) -> Iterator[UploadedFile]:
    """The kept file as an upload ``works.services`` takes (a temporary copy, removed when the
    block ends), with its name and SHA-256."""
    upload = TemporaryUploadedFile(pending.original_name, pending.mime, pending.size, None)
    try:
        with stored_files.opened(pending.file) as source:
            shutil.copyfileobj(source, upload.file, stored_files.CHUNK)
        upload.file.flush()
        upload.seek(0)
        upload.sha256 = pending.sha256
        yield upload
    finally:
        upload.close()


def work_register(
    *,
    owner: User,
    fields: dict,
    identifiers: dict[str, list[str]],
    upload: UploadedFile | None = None,
    kept: PendingUpload | None = None,
) -> Work:
    """Register a work (``services.work_create``) with a newly chosen file or, when none was
    chosen, the file kept from an earlier try, which then stops being pending."""
    if upload is not None or kept is None:
        work = services.work_create(owner=owner, identifiers=identifiers, upload=upload, **fields)
        if kept is not None:
            pending_upload_discard(pending=kept)
        return work
    if kept.owner_id != owner.pk:  # pending_upload_for already ensures it; never trust a caller
        raise ValidationError({"file": KEPT_FILE_GONE})
    if kept.size > services.quota_left(user=owner):
        raise ValidationError({"file": over_quota_message(services.quota_left(user=owner))})
    try:
        with pending_upload_opened(kept) as copy:
            work = services.work_create(owner=owner, identifiers=identifiers, upload=copy, **fields)
    except FileNotFoundError:
        pending_upload_discard(pending=kept)
        raise ValidationError({"file": KEPT_FILE_GONE}) from None
    pending_upload_discard(pending=kept)
    return work


def pending_upload_discard(*, pending: PendingUpload) -> None:
    with transaction.atomic():
        _discard(pending)


def _discard(pending: PendingUpload) -> None:
    """Delete the row now and its stored file once the transaction commits."""
    name, storage = pending.file.name, pending.file.storage
    PendingUpload.objects.filter(pk=pending.pk).delete()

    def delete():
        try:
            storage.delete(name)
        except OSError:  # StorageUnavailable too: the file is an orphan the operator may clear
            logger.warning("Could not delete the pending upload %s", name, exc_info=True)

    if name:
        transaction.on_commit(delete, robust=True)


def pending_uploads_sweep(*, now=None) -> int:
    """Delete the kept files older than ``WORKS_PENDING_UPLOAD_MAX_AGE`` (the works sweep calls
    this). Returns how many."""
    old = list(PendingUpload.objects.filter(created_at__lt=_cutoff(now)).order_by("pk")[:1000])
    with transaction.atomic():
        for pending in old:
            _discard(pending)
    return len(old)
