from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from accounts.storage import StorageUnavailable

from . import imports, pending, services


@shared_task(
    bind=True,
    soft_time_limit=settings.WORKS_PROCESSING_TIME_LIMIT,
    time_limit=settings.WORKS_PROCESSING_TIME_LIMIT + 30,
)
def work_file_process(self, file_id: int) -> None:
    try:
        services.work_file_process(file_id=file_id)
    except SoftTimeLimitExceeded:
        services.work_file_took_too_long(file_id=file_id)
    except StorageUnavailable as exc:
        # The file store did not answer: try again later, further apart each time; after the
        # last try the file is refused with the reason (never left "processing").
        delays = settings.WORKS_STORAGE_RETRY_DELAYS
        if self.request.retries >= len(delays):
            services.work_file_unreadable(file_id=file_id, reason=str(exc))
            return
        raise self.retry(countdown=delays[self.request.retries], max_retries=len(delays)) from exc


@shared_task
def work_files_sweep() -> None:
    services.work_files_sweep()
    pending.pending_uploads_sweep()  # files kept for "Register a work" past their time


# --- Catalogue imports -------------------------------------------------------------------------


@shared_task(
    soft_time_limit=settings.WORKS_IMPORT_TIME_LIMIT,
    time_limit=settings.WORKS_IMPORT_TIME_LIMIT + 60,
)
def import_run(job_id: int) -> None:
    imports.job_run(job_id=job_id)


@shared_task
def import_jobs_sweep() -> None:
    imports.jobs_sweep()
