"""Thin: the removal requests' tasks — beat jobs (``CELERY_BEAT_SCHEDULE``) and the emails to
creators about their requests (``removals.updates``)."""

from celery import shared_task

from . import contests, services, updates


@shared_task
def acknowledged_overdue_run() -> int:
    return services.acknowledged_overdue_run()


@shared_task(bind=True)
def creator_updates_send(self, request_id: int) -> None:
    """Send this request's updates whose minute has passed; if some are still waiting, come
    back when the first of them is due (never in eager mode: the sweep or a test does)."""
    wait = updates.updates_send(request_id=request_id)
    if wait is not None and not self.request.is_eager:
        updates.wake(request_id, countdown=wait)


@shared_task
def creator_updates_sweep() -> int:
    """Beat: what is due whose wake-up was lost."""
    return updates.updates_sweep()


@shared_task
def contest_windows_sweep() -> int:
    """Beat: developers' "complied" whose time to contest passed (``removals.contests``)."""
    return contests.contest_windows_sweep()
