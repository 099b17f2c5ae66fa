from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from . import imports, services


@shared_task(
    soft_time_limit=settings.WORKS_PROCESSING_TIME_LIMIT,
    time_limit=settings.WORKS_PROCESSING_TIME_LIMIT + 30,
)
def work_file_process(file_id: int) -> None:
    try:
        services.work_file_process(file_id=file_id)
    except SoftTimeLimitExceeded:
        services.work_file_took_too_long(file_id=file_id)


@shared_task
def work_files_sweep() -> None:
    services.work_files_sweep()


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
