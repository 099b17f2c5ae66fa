from celery import shared_task

from . import digests, services


@shared_task
def grant_periods_record() -> int:
    """Hourly (beat): a ledger entry when a licence's period starts or ends."""
    return services.grant_periods_record()


@shared_task
def digests_send() -> int:
    """Hourly (beat): each AI developer's consent digest of its latest complete period."""
    return digests.digests_send()
