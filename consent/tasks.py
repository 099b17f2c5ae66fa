from celery import shared_task

from . import services


@shared_task
def grant_periods_record() -> int:
    """Hourly (beat): a ledger entry when a licence's period starts or ends."""
    return services.grant_periods_record()
