from celery import shared_task

from . import imports, services


@shared_task
def work_file_process(file_id: int) -> None:
    services.work_file_process(file_id=file_id)


@shared_task
def work_files_sweep() -> None:
    services.work_files_sweep()


# --- Catalogue imports -------------------------------------------------------------------------


@shared_task
def import_run(job_id: int) -> None:
    imports.job_run(job_id=job_id)


@shared_task
def import_jobs_sweep() -> None:
    imports.jobs_sweep()
