"""Thin: the beat job of removal requests (``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task

from . import services


@shared_task
def acknowledged_overdue_run() -> int:
    return services.acknowledged_overdue_run()
