"""Thin tasks: the email outbox's worker side (``accounts.mail``)."""

from celery import shared_task

from . import mail


@shared_task
def emails_send(email_ids: list[int]) -> None:
    """Claim, send and record these emails (a wake-up after commit, or the sweep's)."""
    mail.send_many(email_ids)


@shared_task
def emails_sweep() -> None:
    """Beat: publish again what is due or whose lease expired; prune old emails."""
    mail.sweep()


@shared_task
def email_send(payload: dict) -> None:
    """A message published before emails were kept in the database (still on the broker when
    the portal was upgraded): kept now, then sent like any other."""
    mail.queue_message(mail.payload_to_message(payload))
