from celery import shared_task

from . import health


@shared_task
def heartbeat() -> None:
    """Run by the worker on beat's schedule: its timestamp proves both are alive."""
    health.heartbeat_write()
