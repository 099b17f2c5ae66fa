"""An import job's life: created with its source file, claimed by one worker under a lease,
its counters moved forward batch by batch, finished or failed, and swept up when a worker or
the broker lost it.

The lease: a worker claims a job with one conditional UPDATE (queued, or running with an
expired lease) that also adds one to ``attempts``; that number is the worker's token. Every
later write of the worker (a batch's counters, the end) is conditional on it, so a worker that
lost its lease (another one took the job over) stops at its next batch instead of writing on.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts import broker
from accounts.models import User
from accounts.services import audit_record
from accounts.storage import StoredFiles

from ..filetypes import FileType
from ..models import ImportJob
from .csvfiles import CSV_FILE, ZIP_ARCHIVE, accept_upload

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
QUEUED_RETRY_AFTER = timedelta(minutes=1)


class LeaseLost(Exception):
    """Another worker holds this job now: stop without writing."""


# --- Reads -------------------------------------------------------------------------------------


def job_for_owner(user: User, pk: int) -> ImportJob:
    """The creator's own job, or 404: another creator's job does not exist for them."""
    job = ImportJob.objects.filter(pk=pk, owner_id=user.pk).first()
    if job is None:
        raise Http404("No such import among yours.")
    return job


def jobs_for_owner(user: User):
    return ImportJob.objects.filter(owner_id=user.pk).order_by("-created_at", "-pk")


def report_rows(job: ImportJob):
    """The per-row error report: a header, then (row, column, message) in file order."""
    if job.kind == ImportJob.Kind.ZIP:
        yield ("entry", "path", "message")
    else:
        yield ("row", "column", "message")
    yield from (
        job.row_errors.order_by("row", "pk")
        .values_list("row", "column", "message")
        .iterator(chunk_size=2000)
    )


# --- Creating a job ----------------------------------------------------------------------------

_KIND_OF_TYPE = {CSV_FILE.format: ImportJob.Kind.CSV, ZIP_ARCHIVE.format: ImportJob.Kind.ZIP}


def job_create(*, owner: User, upload: UploadedFile, kind: str | None = None) -> ImportJob:
    """Keep the uploaded CSV or ZIP privately and queue the job once the transaction commits.
    ``kind`` is what the creator said they upload; the content must agree."""
    filetype: FileType | None = getattr(upload, "filetype", None)
    if filetype is None:  # not streamed through the vetting handler (a script, a test)
        upload.seek(0)
        filetype = accept_upload(upload.read(8192))
        upload.seek(0)
    actual = _KIND_OF_TYPE.get(filetype.format)
    if actual is None:
        raise ValidationError("Import a CSV file or a ZIP archive.")
    if kind and kind != actual:
        if actual == ImportJob.Kind.ZIP:
            raise ValidationError(
                "This file is a ZIP archive: choose “ZIP of files”, or upload a CSV file."
            )
        raise ValidationError("This file is not a ZIP archive: choose “CSV of works”.")
    with StoredFiles() as stored, transaction.atomic():
        job = ImportJob(
            owner=owner,
            kind=actual,
            original_name=(upload.name or f"import.{actual}")[:255],
            size=upload.size or 0,
        )
        upload.seek(0)
        job.source.save(f"{uuid.uuid4().hex}.{actual}", upload, save=False)
        stored.names.append(job.source.name)
        job.save()
        transaction.on_commit(lambda: enqueue(job.pk), robust=True)
    return job


def enqueue(job_id: int) -> None:
    from ..tasks import import_run

    # Bounded to about a second and never raises: if the broker is down the sweep queues it.
    broker.publish(import_run, args=(job_id,))


# --- The lease ---------------------------------------------------------------------------------


def _lease_end():
    return timezone.now() + timedelta(seconds=settings.WORKS_IMPORT_LEASE_SECONDS)


def claim(job_id: int) -> int | None:
    """Take the job for this worker; returns the token, or None if it is not ours to run."""
    now = timezone.now()
    claimed = (
        ImportJob.objects.filter(
            pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            status=ImportJob.Status.RUNNING,
            lease_until=_lease_end(),
            attempts=F("attempts") + 1,
            started_at=Coalesce("started_at", now),
        )
    )
    if not claimed:
        return None
    return ImportJob.objects.values_list("attempts", flat=True).get(pk=job_id)


def _ours(job: ImportJob, token: int):
    return ImportJob.objects.filter(pk=job.pk, attempts=token, status=ImportJob.Status.RUNNING)


def advance(
    job: ImportJob, token: int, *, processed=0, created=0, matched=0, errors=0, **fields
) -> None:
    """Move the counters forward and renew the lease; call inside the batch's transaction.
    Raises ``LeaseLost`` (rolling the batch back) if the job is no longer this worker's."""
    updated = _ours(job, token).update(
        processed_rows=F("processed_rows") + processed,
        created_count=F("created_count") + created,
        matched_count=F("matched_count") + matched,
        error_count=F("error_count") + errors,
        lease_until=_lease_end(),
        **fields,
    )
    if not updated:
        raise LeaseLost


def finish(job: ImportJob, token: int, *, error: str = "") -> bool:
    """Mark the job done (or failed, with ``error``), record it once in the audit log and
    delete its source file: the report and the counters are what the creator keeps."""
    status = ImportJob.Status.FAILED if error else ImportJob.Status.DONE
    source = ImportJob.objects.values_list("source", flat=True).get(pk=job.pk)
    with transaction.atomic():
        updated = _ours(job, token).update(
            status=status, error=error, finished_at=timezone.now(), lease_until=None, source=""
        )
        if not updated:
            return False
        job.refresh_from_db()
        audit_record(
            actor=job.owner,
            action="import.done" if status == ImportJob.Status.DONE else "import.failed",
            obj=job,
            after={
                "kind": job.kind,
                "file": job.original_name,
                "rows": job.processed_rows,
                "created": job.created_count,
                "matched": job.matched_count,
                "errors": job.error_count,
                **({"error": error} if error else {}),
            },
        )
        if source:
            transaction.on_commit(lambda: default_storage.delete(source), robust=True)
    return True


# --- The sweep ---------------------------------------------------------------------------------


def jobs_sweep(*, now=None) -> int:
    """Queue again the jobs the broker or a worker lost: queued for over a minute (the message
    may never have reached a worker), or running with an expired lease (the worker died).
    Running them twice is safe: a claim is conditional, and rows already imported match the
    works they created instead of duplicating them."""
    now = now or timezone.now()
    ids = list(
        ImportJob.objects.filter(
            Q(status=ImportJob.Status.QUEUED, created_at__lt=now - QUEUED_RETRY_AFTER)
            | Q(status=ImportJob.Status.RUNNING)
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:100]
    )
    for job_id in ids:
        enqueue(job_id)
    return len(ids)
