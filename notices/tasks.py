"""Thin: each task loads by id and calls the engine. Beat runs the periodic ones
(``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task

from . import attachments, deadlines, deliveries


@shared_task
def delivery_attempt(delivery_id: int) -> None:
    """One delivery (for operators: ``delivery_attempt.delay(id)``); the engine publishes
    batches."""
    deliveries.attempt(delivery_id=delivery_id)


@shared_task
def deliveries_attempt(delivery_ids: list[int]) -> None:
    """What ``deliveries.publish`` sends: a batch of deliveries to attempt."""
    deliveries.attempt_many(delivery_ids=delivery_ids)


@shared_task
def deliveries_sweep() -> None:
    deliveries.sweep()


@shared_task
def deadlines_run() -> None:
    deadlines.deadlines_run()


@shared_task
def attachment_orphans_delete() -> None:
    """Daily (beat): stored attachment files that no notice holds, left by a caller's
    transaction that rolled back after ``notice_create``."""
    attachments.orphans_delete()
