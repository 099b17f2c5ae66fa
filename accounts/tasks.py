import smtplib

from celery import shared_task

from . import mail


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=6,
)
def email_send(payload: dict) -> None:
    mail.deliver(payload)
