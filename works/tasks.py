from celery import shared_task

from . import services


@shared_task
def work_file_process(file_id: int) -> None:
    services.work_file_process(file_id=file_id)


@shared_task
def work_files_sweep() -> None:
    services.work_files_sweep()
